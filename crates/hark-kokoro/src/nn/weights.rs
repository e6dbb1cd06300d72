//! Weight sources: the canonical safetensors file (memory-mapped through candle) or
//! deterministic random values for the tiny test model.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::safetensors::MmapedSafetensors;
use candle_core::DType;

use crate::error::{Error, Result};

/// A weight tensor's values (PyTorch layout, flat): either owned, or borrowed zero-copy from the
/// memory-mapped safetensors file (so the weights are resident once, as file pages).
pub(crate) struct Weight(Repr);

enum Repr {
    Owned(Vec<f32>),
    Mapped {
        _file: Arc<MmapedSafetensors>,
        ptr: *const f32,
        len: usize,
    },
}

// SAFETY: a mapped weight points into a read-only mapping kept alive by the Arc; nothing ever
// writes through it.
unsafe impl Send for Weight {}
// SAFETY: read-only, as above: shared reads of immutable memory.
unsafe impl Sync for Weight {}

impl Deref for Weight {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match &self.0 {
            Repr::Owned(v) => v,
            // SAFETY: ptr/len describe an aligned, in-bounds f32 slice of the live mapping.
            Repr::Mapped { ptr, len, .. } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }
}

impl Weight {
    /// `(address, bytes)` of the values when they are pages of the mapped file (not owned).
    pub(crate) fn mapped_range(&self) -> Option<(usize, usize)> {
        match &self.0 {
            Repr::Owned(_) => None,
            Repr::Mapped { ptr, len, .. } => Some((*ptr as usize, len * 4)),
        }
    }
}

impl From<Vec<f32>> for Weight {
    fn from(v: Vec<f32>) -> Self {
        Weight(Repr::Owned(v))
    }
}

impl std::fmt::Debug for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Weight[{}]", self.len())
    }
}

/// Hands out named tensors (PyTorch layout), checking their shapes.
pub(crate) trait WeightSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Weight>;

    /// How many zero-copy (mapped) tensors were handed out so far.
    fn mapped_count(&self) -> usize {
        0
    }

    /// Byte ranges `(address, length)` of the mapped tensors handed out as numbers
    /// `from..to` (see [`mapped_count`](Self::mapped_count)).
    fn mapped_ranges(&self, _from: usize, _to: usize) -> Vec<(usize, usize)> {
        Vec::new()
    }
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

    pub(crate) fn mapped_count(&self) -> usize {
        self.src.mapped_count()
    }

    pub(crate) fn get(&mut self, name: &str, shape: &[usize]) -> Result<Weight> {
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
    st: Arc<MmapedSafetensors>,
    mapped: Vec<(usize, usize)>,
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
            st: Arc::new(st),
            mapped: Vec::new(),
        })
    }
}

impl WeightSource for FileSource {
    fn mapped_count(&self) -> usize {
        self.mapped.len()
    }

    fn mapped_ranges(&self, from: usize, to: usize) -> Vec<(usize, usize)> {
        self.mapped[from..to].to_vec()
    }

    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Weight> {
        let err = |msg: String| Error::Tensor {
            file: self.path.clone(),
            tensor: name.to_string(),
            msg,
        };
        let view = self
            .st
            .get(name)
            .map_err(|_| err("missing from the file".into()))?;
        let dtype = DType::try_from(view.dtype());
        if !matches!(dtype, Ok(DType::F32)) {
            return Err(err(format!("dtype {:?}, expected F32", view.dtype())));
        }
        if view.shape() != shape {
            return Err(err(format!(
                "shape {:?}, expected {:?}",
                view.shape(),
                shape
            )));
        }
        let data = view.data();
        let len: usize = shape.iter().product();
        if data.len() != 4 * len {
            return Err(err(format!("{} data bytes for {len} floats", data.len())));
        }
        let w = if cfg!(target_endian = "little") && (data.as_ptr() as usize).is_multiple_of(4) {
            self.mapped.push((data.as_ptr() as usize, data.len()));
            Weight(Repr::Mapped {
                _file: Arc::clone(&self.st),
                ptr: data.as_ptr() as *const f32,
                len,
            })
        } else {
            let v: Vec<f32> = data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Weight::from(v)
        };
        if let Some(i) = w.iter().position(|x| !x.is_finite()) {
            return Err(err(format!("non-finite value at flat index {i}")));
        }
        Ok(w)
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
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Weight> {
        Ok(Weight::from(self.values(name, shape)))
    }
}

impl RandomSource {
    fn values(&mut self, name: &str, shape: &[usize]) -> Vec<f32> {
        let n: usize = shape.iter().product();
        self.counter += 1;
        let stream =
            crate::kernels::noise::splitmix64(self.seed ^ self.counter.wrapping_mul(0x5851_F42D));
        let last = name.rsplit('.').next().unwrap_or(name);
        let is_norm_scale = last == "gamma" || (name.contains("LayerNorm") && last == "weight");
        let is_norm_shift = last == "beta" || (name.contains("LayerNorm") && last == "bias");
        if is_norm_scale {
            return vec![1.0; n];
        }
        if is_norm_shift {
            return vec![0.0; n];
        }
        if name.contains(".alpha") {
            return (0..n)
                .map(|i| 1.0 + 0.2 * crate::kernels::noise::uniform_pm1(stream, i as u64))
                .collect();
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
        (0..n)
            .map(|i| scale * crate::kernels::noise::uniform_pm1(stream, i as u64))
            .collect()
    }
}
