package dev.trestle.nativ.cuda;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** The C type behind a Java parameter or return value of a binding, as LWJGL marks it. */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.PARAMETER, ElementType.METHOD, ElementType.FIELD})
public @interface NativeType {
    /** The C type, such as {@code CUdeviceptr} or {@code size_t}. */
    String value();
}
