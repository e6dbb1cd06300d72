//! The double-array trie of MeCab's dictionaries (Darts 0.32's layout), read in place.
//!
//! The array is a sequence of 8-byte units, `base: i32` then `check: u32`, little-endian. From a
//! node whose base is `b`, the byte `c` leads to unit `b + c + 1` when that unit's check is `b`;
//! a key ends at `b` when unit `b` has check `b` and a negative base, whose value is `-base - 1`.

/// A double array over borrowed bytes (a slice of a memory-mapped file).
#[derive(Clone, Copy)]
pub(crate) struct DoubleArray<'a> {
    units: &'a [u8],
}

impl<'a> DoubleArray<'a> {
    /// The array in `units` (a multiple of 8 bytes; a trailing partial unit is ignored).
    pub(crate) fn new(units: &'a [u8]) -> Self {
        Self { units }
    }

    /// `(base, check)` of unit `i`, or `None` past the end (a corrupt array stops the walk).
    fn unit(&self, i: usize) -> Option<(i32, u32)> {
        let u = self.units.get(i.checked_mul(8)?..i * 8 + 8)?;
        let base = i32::from_le_bytes([u[0], u[1], u[2], u[3]]);
        let check = u32::from_le_bytes([u[4], u[5], u[6], u[7]]);
        Some((base, check))
    }

    /// The value stored at the node whose base is `b`, if a key ends there.
    fn value_at(&self, b: i32) -> Option<u32> {
        let (base, check) = self.unit(usize::try_from(b).ok()?)?;
        (check == b as u32 && base < 0).then(|| (-(base as i64) - 1) as u32)
    }

    /// Every key that is a prefix of `key`, shortest first, as `(value, key length)`: what
    /// Darts' `commonPrefixSearch` returns, in the same order.
    pub(crate) fn common_prefixes(&self, key: &[u8], out: &mut Vec<(u32, usize)>) {
        out.clear();
        let Some((mut b, _)) = self.unit(0) else {
            return;
        };
        for (i, &c) in key.iter().enumerate() {
            if let Some(v) = self.value_at(b) {
                out.push((v, i));
            }
            let Some(p) = usize::try_from(b)
                .ok()
                .and_then(|b| b.checked_add(c as usize + 1))
            else {
                return;
            };
            match self.unit(p) {
                Some((base, check)) if check == b as u32 => b = base,
                _ => return,
            }
        }
        if let Some(v) = self.value_at(b) {
            out.push((v, key.len()));
        }
    }

    /// The value of exactly `key`, if it is in the trie.
    pub(crate) fn exact(&self, key: &[u8]) -> Option<u32> {
        let mut out = Vec::new();
        self.common_prefixes(key, &mut out);
        out.last()
            .filter(|(_, len)| *len == key.len())
            .map(|(v, _)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built trie of the keys "a" (value 5) and "ab" (value 7).
    fn tiny() -> Vec<u8> {
        // unit 0: root, base 1. 'a' = 97 → unit 1 + 97 + 1 = 99, check 1, base 100.
        // unit 100: end of "a" (check 100, base -6 → value 5).
        // 'b' = 98 from base 100 → unit 199, check 100, base 200.
        // unit 200: end of "ab" (check 200, base -8 → value 7).
        let mut units = vec![(0i32, 0u32); 201];
        units[0] = (1, 0);
        units[99] = (100, 1);
        units[100] = (-6, 100);
        units[199] = (200, 100);
        units[200] = (-8, 200);
        units
            .iter()
            .flat_map(|(b, c)| b.to_le_bytes().into_iter().chain(c.to_le_bytes()))
            .collect()
    }

    #[test]
    fn finds_every_prefix_shortest_first() {
        let bytes = tiny();
        let da = DoubleArray::new(&bytes);
        let mut out = Vec::new();
        da.common_prefixes(b"abc", &mut out);
        assert_eq!(out, vec![(5, 1), (7, 2)]);
        da.common_prefixes(b"b", &mut out);
        assert!(out.is_empty());
        assert_eq!(da.exact(b"ab"), Some(7));
        assert_eq!(da.exact(b"abc"), None);
        // a truncated array ends the walk instead of reading past it
        let da = DoubleArray::new(&bytes[..150 * 8]);
        da.common_prefixes(b"abc", &mut out);
        assert_eq!(out, vec![(5, 1)]);
    }
}
