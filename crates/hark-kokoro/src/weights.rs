//! Weight sources: the canonical safetensors file (memory-mapped through candle) or
//! deterministic random values for the tiny test model.

use std::path::{Path, PathBuf};

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device};

use crate::{Error, Result};

/// Hands out named tensors as flat f32 vectors (PyTorch layout), checking their shapes.
pub(crate) trait WeightSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>>;
}

/// Prefix helper so module constructors can mirror the checkpoint's name hierarchy.
pub(crate) struct Vb<'a> {
    src: &'a mut dyn WeightSource,
    prefix: String,
}

impl<'a> Vb<'a> {
    pub(crate) fn new(src: &'a mut dyn WeightSource) -> Self {
        Self {
            src,
            prefix: String::new(),
        }
    }

    /// A child builder for `prefix.name`.
    pub(crate) fn pp(&mut self, name: impl std::fmt::Display) -> Vb<'_> {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        Vb {
            src: &mut *self.src,
            prefix,
        }
    }

    pub(crate) fn get(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let full = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        self.src.take(&full, shape)
    }
}

/// The canonical safetensors file, memory-mapped.
pub(crate) struct FileSource {
    path: PathBuf,
    st: MmapedSafetensors,
    device: Device,
}

impl FileSource {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if !meta.is_file() {
            return Err(Error::WeightsFile {
                file: path.to_path_buf(),
                msg: "not a regular file".into(),
            });
        }
        // SAFETY: the file is opened read-only; like every mmap user we assume nobody truncates
        // it while the model is loading (the tensors are copied out before this returns).
        let st = unsafe { MmapedSafetensors::new(path) }.map_err(|e| Error::WeightsFile {
            file: path.to_path_buf(),
            msg: format!("cannot read as safetensors (truncated or corrupt?): {e}"),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            st,
            device: Device::Cpu,
        })
    }
}

impl WeightSource for FileSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let err = |msg: String| Error::Tensor {
            file: self.path.clone(),
            tensor: name.to_string(),
            msg,
        };
        let view = self
            .st
            .get(name)
            .map_err(|_| err("missing from the file".into()))?;
        if view.shape() != shape {
            return Err(err(format!(
                "shape {:?}, expected {:?}",
                view.shape(),
                shape
            )));
        }
        let t = candle_core::safetensors::Load::load(&view, &self.device)
            .map_err(|e| err(format!("cannot load: {e}")))?;
        if t.dtype() != DType::F32 {
            return Err(err(format!("dtype {:?}, expected F32", t.dtype())));
        }
        let v = t
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| err(format!("cannot load: {e}")))?;
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(err(format!("non-finite value at flat index {i}")));
        }
        Ok(v)
    }
}

/// Deterministic random weights with PyTorch-like init scales (uniform ±1/√fan_in), norms at
/// identity and Snake alphas at 1, so a random model produces finite, non-silent audio.
pub(crate) struct RandomSource {
    seed: u64,
    counter: u64,
}

impl RandomSource {
    pub(crate) fn new(seed: u64) -> Self {
        Self { seed, counter: 0 }
    }
}

impl WeightSource for RandomSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let n: usize = shape.iter().product();
        self.counter += 1;
        let stream = crate::noise::splitmix64(self.seed ^ self.counter.wrapping_mul(0x5851_F42D));
        let last = name.rsplit('.').next().unwrap_or(name);
        let is_norm_scale = last == "gamma" || (name.contains("LayerNorm") && last == "weight");
        let is_norm_shift = last == "beta" || (name.contains("LayerNorm") && last == "bias");
        if is_norm_scale {
            return Ok(vec![1.0; n]);
        }
        if is_norm_shift {
            return Ok(vec![0.0; n]);
        }
        if name.contains(".alpha") {
            return Ok((0..n)
                .map(|i| 1.0 + 0.2 * crate::noise::uniform_pm1(stream, i as u64))
                .collect());
        }
        let fan_in: usize = if shape.len() >= 2 {
            shape[1..].iter().product()
        } else {
            16
        };
        let mut scale = 1.0 / (fan_in.max(1) as f32).sqrt();
        if name.contains("embeddings") || name.ends_with("embedding.weight") {
            scale = 0.5;
        }
        Ok((0..n)
            .map(|i| scale * crate::noise::uniform_pm1(stream, i as u64))
            .collect())
    }
}
