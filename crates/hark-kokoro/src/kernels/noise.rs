//! Counter-based random numbers: the value at index `i` depends only on `(seed, i)`.

#[inline]
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in (0, 1], from 53 random bits.
#[inline]
fn unit(bits: u64) -> f64 {
    ((bits >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
}

/// Standard normal sample number `index` of stream `seed` (Box–Muller on two SplitMix64 draws).
#[inline]
pub(crate) fn gaussian(seed: u64, index: u64) -> f32 {
    let base = splitmix64(seed).wrapping_add(index.wrapping_mul(2));
    let u1 = unit(splitmix64(base));
    let u2 = unit(splitmix64(base.wrapping_add(1)));
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Uniform in [-1, 1), sample number `index` of stream `seed`.
#[inline]
pub(crate) fn uniform_pm1(seed: u64, index: u64) -> f32 {
    let bits = splitmix64(splitmix64(seed).wrapping_add(index));
    ((bits >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}
