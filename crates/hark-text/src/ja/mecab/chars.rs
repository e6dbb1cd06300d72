//! MeCab's character classes (`char.bin`): the category of every UCS-2 code point, which decides
//! how unknown words are cut (grouping runs, lengths) and which characters count as spaces.
//!
//! Layout: `u32` category count, 32-byte NUL-padded names, then one `u32` per code point
//! `0..0xFFFF`: bits 0–17 the set of categories, 18–25 the default category, 26–29 the
//! unknown-word length, bit 30 "group", bit 31 "invoke" (as GCC lays out MeCab's bit fields).

/// The class of one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CharInfo(u32);

impl CharInfo {
    /// Bit set of the categories the character belongs to.
    fn types(self) -> u32 {
        self.0 & 0x3FFFF
    }
    /// The category used for an unknown word starting with it.
    pub(crate) fn default_type(self) -> u8 {
        (self.0 >> 18) as u8
    }
    /// How many characters of the class an unknown word may take, one length per node.
    pub(crate) fn length(self) -> usize {
        ((self.0 >> 26) & 0xF) as usize
    }
    /// Whether a whole run of the class is also one unknown word.
    pub(crate) fn group(self) -> bool {
        self.0 >> 30 & 1 == 1
    }
    /// Whether unknown words are made even where the dictionary has words.
    pub(crate) fn invoke(self) -> bool {
        self.0 >> 31 == 1
    }
    /// MeCab's `isKindOf`: the two share a category.
    pub(crate) fn kind_of(self, other: CharInfo) -> bool {
        self.types() & other.types() != 0
    }
}

/// The table, borrowed from the mapped file.
#[derive(Clone, Copy)]
pub(crate) struct CharTable<'a> {
    names: &'a [u8],
    map: &'a [u8],
}

/// Number of code points in the table (`0..0xFFFF`, as MeCab writes it).
const CODE_POINTS: usize = 0xFFFF;

impl<'a> CharTable<'a> {
    /// Parses `char.bin`; `None` if its size does not match its header.
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Self> {
        let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
        let names_end = 4usize.checked_add(n.checked_mul(32)?)?;
        if bytes.len() != names_end + 4 * CODE_POINTS || n == 0 {
            return None;
        }
        Some(Self {
            names: &bytes[4..names_end],
            map: &bytes[names_end..],
        })
    }

    /// Number of categories.
    pub(crate) fn len(&self) -> usize {
        self.names.len() / 32
    }

    /// Name of category `i` (`DEFAULT`, `SPACE`, `KANJI`, …).
    pub(crate) fn name(&self, i: usize) -> &'a [u8] {
        let raw = &self.names[i * 32..i * 32 + 32];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(32);
        &raw[..end]
    }

    /// The class of code point `code` (MeCab reads characters outside UCS-2, and U+FFFF,
    /// as code 0).
    pub(crate) fn info(&self, code: u32) -> CharInfo {
        let i = if (code as usize) < CODE_POINTS {
            code as usize
        } else {
            0
        };
        let b = &self.map[i * 4..i * 4 + 4];
        CharInfo(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The class of `c`.
    pub(crate) fn of(&self, c: char) -> CharInfo {
        self.info(c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_mecabs_bit_layout() {
        // types {1, 3}, default 3, length 2, group, invoke
        let c = CharInfo(0b1010 | 3 << 18 | 2 << 26 | 1 << 30 | 1 << 31);
        assert_eq!(c.default_type(), 3);
        assert_eq!(c.length(), 2);
        assert!(c.group() && c.invoke());
        assert!(c.kind_of(CharInfo(0b10)) && !c.kind_of(CharInfo(0b100)));
    }

    #[test]
    fn a_table_must_have_its_size() {
        let mut bytes = 1u32.to_le_bytes().to_vec();
        bytes.extend(b"DEFAULT".iter().chain([0u8; 25].iter()));
        bytes.extend(vec![0u8; 4 * CODE_POINTS]);
        let t = CharTable::parse(&bytes).expect("a valid table");
        assert_eq!((t.len(), t.name(0)), (1, &b"DEFAULT"[..]));
        assert_eq!(t.of('😀'), t.info(0));
        assert!(CharTable::parse(&bytes[..bytes.len() - 1]).is_none());
        assert!(CharTable::parse(&[]).is_none());
    }
}
