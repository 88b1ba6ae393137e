# Trestle on NVIDIA GPUs. The image needs nothing from the host but the NVIDIA driver (r580+), which the
# NVIDIA Container Toolkit mounts in with `docker run --gpus all`; Trestle's CUDA kernels are inside the jar.
#
#   docker build -t trestle .
#   docker run --gpus all -p 127.0.0.1:8080:8080 -v ~/models:/models trestle -m /models/X.gguf -ngl 99
#
# Stage 1 builds with Maven on JDK 25; stage 2 cuts a JRE down to the modules Trestle uses (jlink);
# stage 3 is the CUDA runtime image (its cuBLAS is picked up when present) with that JRE and a non-root user.
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-runtime-ubuntu24.04

FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
# dependencies first, so source edits reuse the cached download layer
COPY pom.xml .
COPY native/pom.xml native/
COPY backends/pom.xml backends/
COPY scheduler/pom.xml scheduler/
COPY engine/pom.xml engine/
COPY server/pom.xml server/
RUN mvn -B -q -pl server -am dependency:go-offline -DexcludeReactor=true || true
COPY . .
RUN MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow" mvn -B -q -DskipTests package -pl server -am \
 && mkdir -p /out/trestle && cp server/target/trestle.jar /out/trestle/ && cp -r server/target/lib /out/trestle/lib

FROM eclipse-temurin:25-jdk AS jre
# The module list is `jdeps --print-module-deps` of trestle.jar and its lib/, plus the Vector API incubator.
RUN jlink --add-modules java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.rmi,java.security.jgss,java.sql,jdk.incubator.vector,jdk.management,jdk.unsupported,jdk.crypto.ec,jdk.zipfs \
      --strip-debug --no-man-pages --no-header-files --compress=zip-6 --output /jre

FROM ${CUDA_IMAGE}
ENV JAVA_HOME=/opt/jre \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/trestle --uid 10001 trestle \
 && mkdir -p /models && chown trestle /models
COPY --from=jre /jre /opt/jre
COPY --from=build /out/trestle /opt/trestle
USER trestle
WORKDIR /home/trestle
VOLUME ["/models"]
EXPOSE 8080
# /health answers 200 once the model is loaded (503 while loading): allow a long start for big models.
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health || exit 1
# Exec form: the JVM is PID 1 and receives SIGTERM from `docker stop` (graceful shutdown). Inside the
# container the server listens on all interfaces so Docker can forward the published port; the README's
# `-p 127.0.0.1:8080:8080` keeps it reachable from this host only.
ENTRYPOINT ["/opt/jre/bin/java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", \
            "-Dorg.lwjgl.system.memoryBackend=ffm", "-Xss8m", "-jar", "/opt/trestle/trestle.jar", \
            "serve", "--host", "0.0.0.0", "--port", "8080"]
CMD []
