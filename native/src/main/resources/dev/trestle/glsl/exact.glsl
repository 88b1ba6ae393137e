// Bit-exact float helpers built from integer operations, so results do not depend on the device's float16
// conversion rounding mode, denormal handling or division precision (Vulkan allows 2.5 ulp for OpFDiv).

// Float to F16 bits, round to nearest even, subnormals kept, overflow to infinity, NaN stays NaN.
uint f32ToF16(float f) {
    uint u = floatBitsToUint(f);
    uint sign = (u >> 16) & 0x8000u;
    uint a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) {
        return sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u);
    }
    if (a >= 0x477ff000u) {
        return sign | 0x7c00u; // 65520 and up round to infinity
    }
    if (a >= 0x38800000u) {
        uint r = a - 0x38000000u; // rebias the exponent from 127 to 15
        return sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13);
    }
    uint e = a >> 23;
    if (e < 102u) {
        return sign; // below half the smallest subnormal
    }
    // subnormal half: the value in units of 2^-24 is m * 2^(e - 126)
    uint m = (a & 0x7fffffu) | 0x800000u;
    uint shift = 126u - e;
    uint q = m >> shift;
    uint rem = m & ((1u << shift) - 1u);
    uint halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (q & 1u) == 1u)) {
        q += 1u;
    }
    return sign | q;
}

// F16 bits to float, exact for subnormals too.
float f16ToF32(uint h) {
    uint sign = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1fu;
    uint m = h & 0x3ffu;
    if (e == 0u) {
        float v = float(m) * 5.9604644775390625e-8; // m * 2^-24: exact
        return (h & 0x8000u) != 0u ? -v : v;
    }
    if (e == 31u) {
        return uintBitsToFloat(sign | 0x7f800000u | (m << 13));
    }
    return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
}

// Float rounded to the nearest F16 value.
float roundF16(float f) {
    return f16ToF32(f32ToF16(f));
}

// Float to BF16 bits, round to nearest even; NaN stays a quiet NaN.
uint f32ToBf16(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return (u >> 16) | 64u;
    }
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

// a / b correctly rounded (nearest even) for positive normal a and b, by long division of the significands.
// Quotients outside the normal range (never met by activation scales) use the device's division.
float divRn(float a, float b) {
    uint ua = floatBitsToUint(a);
    uint ub = floatBitsToUint(b);
    int e = int(ua >> 23) - int(ub >> 23) + 127;
    uint ma = (ua & 0x7fffffu) | 0x800000u;
    uint mb = (ub & 0x7fffffu) | 0x800000u;
    if (ma < mb) {
        ma <<= 1;
        e -= 1;
    }
    uint q = 0u;
    uint r = ma;
    for (int i = 0; i < 25; i++) { // 24 significand bits and a guard bit
        q <<= 1;
        if (r >= mb) {
            r -= mb;
            q |= 1u;
        }
        r <<= 1;
    }
    uint guard = q & 1u;
    q >>= 1;
    if (guard == 1u && (r != 0u || (q & 1u) == 1u)) {
        q += 1u;
    }
    if (q == 0x1000000u) {
        q >>= 1;
        e += 1;
    }
    if (e <= 0 || e >= 255 || (ua >> 23) == 0u || (ub >> 23) == 0u) {
        return a / b;
    }
    return uintBitsToFloat((uint(e) << 23) | (q & 0x7fffffu));
}
