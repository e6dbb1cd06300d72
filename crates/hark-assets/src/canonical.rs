//! The canonical fp32 weight file: the table of the 457 expected tensors and the writer.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::{Dtype, View};

use crate::error::{Error, Result};
use crate::util;

/// Name and PyTorch shape of every canonical tensor, one per line (derived from the v1.0 checkpoint).
const TABLE: &str = include_str!("../data/kokoro-v1_0-tensors.txt");

/// Number of tensors in the canonical weight file.
pub const TENSOR_COUNT: usize = 457;

/// The expected canonical tensors: `(name, shape)`, sorted by name.
pub fn expected_tensors() -> Vec<(&'static str, Vec<usize>)> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, shape) = l.split_once(' ').expect("tensor table line has a shape");
            let shape = shape
                .split(',')
                .map(|d| d.parse().expect("tensor table dims are integers"))
                .collect();
            (name, shape)
        })
        .collect()
}

/// What a converter produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertReport {
    /// Number of tensors written.
    pub tensors: usize,
    /// Total number of f32 parameters written.
    pub parameters: u64,
    /// Size of the written safetensors file.
    pub bytes: u64,
}

/// Check that `path` is a canonical weight file: safetensors, all F32, exactly the expected
/// names and shapes (reads the header only).
pub fn check_canonical_file(path: &Path) -> Result<()> {
    use std::io::Read;
    let what = path.display().to_string();
    let mut f = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|e| Error::io("read", path, e))?;
    let n = u64::from_le_bytes(n);
    if n > 100 << 20 {
        return Err(Error::convert(&what, "implausible safetensors header size"));
    }
    let mut head = vec![0u8; n as usize];
    f.read_exact(&mut head)
        .map_err(|e| Error::io("read", path, e))?;
    let meta: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&head)
        .map_err(|e| Error::convert(&what, format!("bad safetensors header: {e}")))?;
    let expected = expected_tensors();
    let count = meta.keys().filter(|k| *k != "__metadata__").count();
    for (name, shape) in &expected {
        let t = meta.get(*name).ok_or_else(|| Error::Tensor {
            name: name.to_string(),
            reason: format!("missing from {what}"),
        })?;
        let dtype = t.get("dtype").and_then(|d| d.as_str());
        let got: Option<Vec<usize>> = t.get("shape").and_then(|s| s.as_array()).map(|a| {
            a.iter()
                .filter_map(|d| d.as_u64().map(|d| d as usize))
                .collect()
        });
        if dtype != Some("F32") || got.as_ref() != Some(shape) {
            return Err(Error::Tensor {
                name: name.to_string(),
                reason: format!("in {what}: dtype {dtype:?} shape {got:?}, expected F32 {shape:?}"),
            });
        }
    }
    if count != expected.len() {
        return Err(Error::convert(
            &what,
            format!("{count} tensors, expected {}", expected.len()),
        ));
    }
    Ok(())
}

/// A dense f32 tensor in PyTorch layout.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Tensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

impl View for &F32Tensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        let mut out = Vec::with_capacity(self.data.len() * 4);
        for v in &self.data {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Cow::Owned(out)
    }
    fn data_len(&self) -> usize {
        self.data.len() * 4
    }
}

/// Collects converted tensors; a name produced twice must carry bit-identical values
/// (the export repeats ALBERT's shared layer once per use).
#[derive(Debug, Default)]
pub struct TensorSet {
    pub(crate) map: BTreeMap<String, F32Tensor>,
}

impl TensorSet {
    /// Add a tensor; an identical duplicate is accepted, a differing one is an error.
    pub fn put(&mut self, name: String, t: F32Tensor) -> Result<()> {
        if let Some(prev) = self.map.get(&name) {
            let same = prev.shape == t.shape
                && prev
                    .data
                    .iter()
                    .zip(&t.data)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
            if !same {
                return Err(Error::Tensor {
                    name,
                    reason: "produced twice with different values".into(),
                });
            }
            return Ok(());
        }
        let n: usize = t.shape.iter().product();
        if n != t.data.len() {
            return Err(Error::Tensor {
                name,
                reason: format!("shape {:?} does not match {} values", t.shape, t.data.len()),
            });
        }
        self.map.insert(name, t);
        Ok(())
    }

    /// Check the set against the canonical table: every tensor present once with its shape, nothing else.
    pub fn validate(&self) -> Result<()> {
        let expected = expected_tensors();
        for (name, shape) in &expected {
            match self.map.get(*name) {
                None => {
                    return Err(Error::Tensor {
                        name: name.to_string(),
                        reason: "missing from the converted weights".into(),
                    })
                }
                Some(t) if &t.shape != shape => {
                    return Err(Error::Tensor {
                        name: name.to_string(),
                        reason: format!("shape {:?}, expected {:?}", t.shape, shape),
                    })
                }
                Some(_) => {}
            }
        }
        if self.map.len() != expected.len() {
            let extra = self
                .map
                .keys()
                .find(|k| !expected.iter().any(|(n, _)| n == k))
                .cloned()
                .unwrap_or_default();
            return Err(Error::Tensor {
                name: extra,
                reason: "not a canonical Kokoro tensor".into(),
            });
        }
        Ok(())
    }

    /// Validate, then write the canonical safetensors file atomically.
    pub fn write(&self, out: &Path) -> Result<ConvertReport> {
        self.validate()?;
        self.write_unchecked(out)
    }

    /// Write without validation against the table (used for partial test fixtures).
    pub(crate) fn write_unchecked(&self, out: &Path) -> Result<ConvertReport> {
        util::ensure_parent(out)?;
        let tmp = util::temp_sibling(out);
        let data = self.map.iter().map(|(k, v)| (k.as_str(), v));
        if let Err(e) = safetensors::serialize_to_file(data, None, &tmp) {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::convert(
                out.display().to_string(),
                format!("writing safetensors: {e}"),
            ));
        }
        util::commit_temp(&tmp, out)?;
        let bytes = std::fs::metadata(out)
            .map_err(|e| Error::io("stat", out, e))?
            .len();
        Ok(ConvertReport {
            tensors: self.map.len(),
            parameters: self.map.values().map(|t| t.data.len() as u64).sum(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_457_unique_sorted_names() {
        let t = expected_tensors();
        assert_eq!(t.len(), TENSOR_COUNT);
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        let params: usize = t.iter().map(|(_, s)| s.iter().product::<usize>()).sum();
        // 81,763,410 checkpoint parameters minus the pooler (768*768+768) and the weight_g vectors.
        assert!(params > 81_000_000 && params < 81_763_410, "{params}");
    }

    #[test]
    fn canonical_file_check_reads_the_header() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("w.safetensors");
        let mut s = TensorSet::default();
        s.put(
            "bert.embeddings.LayerNorm.bias".into(),
            F32Tensor {
                shape: vec![128],
                data: vec![0.0; 128],
            },
        )
        .unwrap();
        s.write_unchecked(&p).unwrap();
        let err = check_canonical_file(&p).unwrap_err().to_string();
        assert!(
            err.contains("bert.embeddings.LayerNorm.weight") && err.contains("missing"),
            "{err}"
        );
        std::fs::write(&p, b"\x10\0\0\0\0\0\0\0{oops").unwrap();
        assert!(check_canonical_file(&p).is_err());
    }

    #[test]
    fn duplicate_must_match() {
        let mut s = TensorSet::default();
        let t = F32Tensor {
            shape: vec![2],
            data: vec![1.0, 2.0],
        };
        s.put("a".into(), t.clone()).unwrap();
        s.put("a".into(), t).unwrap();
        let err = s
            .put(
                "a".into(),
                F32Tensor {
                    shape: vec![2],
                    data: vec![1.0, 3.0],
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("tensor a"), "{err}");
        let err = s.validate().unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
