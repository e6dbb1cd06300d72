//! Voice packs: one style vector per utterance length.

use std::path::Path;

use crate::error::{Error, Result};

/// A voice pack: `rows × width` f32 (Kokoro v1.0: 510 × 256). Row `r` is the style for an
/// utterance of `r + 1` phoneme symbols.
#[derive(Debug, Clone, PartialEq)]
pub struct VoicePack {
    name: String,
    rows: usize,
    width: usize,
    data: Vec<f32>,
}

impl VoicePack {
    /// Builds a pack from raw little-endian f32 bytes, `width` values per row.
    pub fn from_f32_le_bytes(name: &str, bytes: &[u8], width: usize) -> Result<Self> {
        let err = |msg: String| Error::Voice {
            name: name.to_string(),
            msg,
        };
        if width == 0 {
            return Err(err("row width must be positive".into()));
        }
        let row_bytes = 4 * width;
        if bytes.is_empty() || !bytes.len().is_multiple_of(row_bytes) {
            return Err(err(format!(
                "{} bytes is not a whole number of {width}-float rows",
                bytes.len()
            )));
        }
        let data: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(err(format!(
                "non-finite value at row {} column {}",
                i / width,
                i % width
            )));
        }
        Ok(Self {
            name: name.to_string(),
            rows: data.len() / width,
            width,
            data,
        })
    }

    /// Loads a raw f32 LE pack of 256-wide rows; the name is the file stem.
    pub fn load(path: &Path) -> Result<Self> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_f32_le_bytes(&name, &bytes, 256)
    }

    /// The pack's name (its file stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Style rows (one per utterance length).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Values per style row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The style row for an utterance of `n_phonemes` symbols: row `clamp(n − 1, 0, rows − 1)`
    /// (the reference indexes `pack[len(ps) − 1]`).
    pub fn style_for(&self, n_phonemes: usize) -> &[f32] {
        let r = n_phonemes.saturating_sub(1).min(self.rows - 1);
        &self.data[r * self.width..(r + 1) * self.width]
    }

    /// Weighted mean of packs of identical shape; weights are normalized to sum to 1.
    pub fn blend(parts: &[(&VoicePack, f32)]) -> Result<VoicePack> {
        let Some((first, _)) = parts.first() else {
            return Err(Error::Voice {
                name: String::new(),
                msg: "blend of zero voices".into(),
            });
        };
        let name = parts
            .iter()
            .map(|(v, w)| format!("{}:{w}", v.name))
            .collect::<Vec<_>>()
            .join("+");
        let err = |msg: String| Error::Voice {
            name: name.clone(),
            msg,
        };
        let total: f32 = parts.iter().map(|(_, w)| *w).sum();
        if parts.iter().any(|(_, w)| !w.is_finite() || *w < 0.0) || total.is_nan() || total <= 0.0 {
            return Err(err(
                "weights must be finite, non-negative, with a positive sum".into(),
            ));
        }
        let mut data = vec![0f32; first.data.len()];
        for (v, w) in parts {
            if v.rows != first.rows || v.width != first.width {
                return Err(err(format!(
                    "shape mismatch: {} is {}x{}, {} is {}x{}",
                    first.name, first.rows, first.width, v.name, v.rows, v.width
                )));
            }
            let w = *w / total;
            for (d, s) in data.iter_mut().zip(&v.data) {
                *d += w * s;
            }
        }
        Ok(VoicePack {
            name,
            rows: first.rows,
            width: first.width,
            data,
        })
    }

    /// A deterministic random pack (values roughly N(0, 0.3²)), for tiny-model tests.
    pub fn random(name: &str, rows: usize, width: usize, seed: u64) -> Self {
        let rows = rows.max(1);
        let width = width.max(1);
        let data = (0..rows * width)
            .map(|i| 0.3 * crate::kernels::noise::gaussian(seed ^ 0x766f_6963_6500, i as u64))
            .collect();
        Self {
            name: name.to_string(),
            rows,
            width,
            data,
        }
    }
}
