//! PyTorch zip checkpoints (`torch.save`) → canonical fp32 safetensors / raw voice packs.
//!
//! A minimal pickle reader understands what `torch.save` writes for state dicts of float32
//! tensors (`torch._utils._rebuild_tensor_v2` over persistent `FloatStorage`s). Weight norm
//! pairs are folded (`W = g · v / ‖v‖`, norm over every axis but 0), the `module.` prefix is
//! stripped, the unused ALBERT pooler and `position_ids` are dropped.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

pub use crate::canonical::ConvertReport;
use crate::canonical::{F32Tensor, TensorSet};
use crate::error::{Error, Result};
use crate::layout::VOICE_BYTES;
use crate::util;

/// A reference to tensor data inside the archive.
#[derive(Debug, Clone, PartialEq)]
struct TensorRef {
    storage: String,
    dtype: String,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Val>),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
    Global(String, String),
    PersId(Box<Val>),
    Tensor(TensorRef),
    /// Any other reconstructed object (ignored).
    Object,
    Mark,
}

struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    file: &'a str,
}

impl<'a> Unpickler<'a> {
    fn err(&self, reason: impl std::fmt::Display) -> Error {
        Error::convert(self.file, format!("pickle at byte {}: {reason}", self.pos))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| self.err("truncated"))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn line(&mut self) -> Result<String> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err("unterminated line"))?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
    fn string(&mut self, n: usize) -> Result<Val> {
        let b = self.take(n)?;
        Ok(Val::Str(
            String::from_utf8(b.to_vec()).map_err(|_| self.err("string is not UTF-8"))?,
        ))
    }

    fn run(&mut self) -> Result<Val> {
        let mut stack: Vec<Val> = Vec::new();
        let mut memo: HashMap<u32, Val> = HashMap::new();
        macro_rules! pop {
            () => {
                stack.pop().ok_or_else(|| self.err("stack underflow"))?
            };
        }
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?; // PROTO
                }
                0x95 => {
                    self.take(8)?; // FRAME
                }
                b'.' => return stack.pop().ok_or_else(|| self.err("empty stack at STOP")),
                b'}' => stack.push(Val::Dict(Vec::new())),
                b']' => stack.push(Val::List(Vec::new())),
                b')' => stack.push(Val::Tuple(Vec::new())),
                b'(' => stack.push(Val::Mark),
                b'N' => stack.push(Val::None),
                0x88 => stack.push(Val::Bool(true)),
                0x89 => stack.push(Val::Bool(false)),
                b'J' => {
                    let v = self.u32()? as i32;
                    stack.push(Val::Int(i64::from(v)))
                }
                b'K' => {
                    let v = self.u8()?;
                    stack.push(Val::Int(i64::from(v)))
                }
                b'M' => {
                    let b = self.take(2)?;
                    stack.push(Val::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))))
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 8 {
                        return Err(self.err("LONG1 wider than 64 bits"));
                    }
                    let mut v: i64 = 0;
                    for (i, &x) in b.iter().enumerate() {
                        v |= i64::from(x) << (8 * i);
                    }
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    stack.push(Val::Int(v))
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    stack.push(Val::Float(f64::from_be_bytes(a)))
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let v = self.string(n)?;
                    stack.push(v)
                }
                0x8c => {
                    let n = self.u8()? as usize;
                    let v = self.string(n)?;
                    stack.push(v)
                }
                b'U' => {
                    let n = self.u8()? as usize;
                    let v = self.string(n)?;
                    stack.push(v)
                }
                b'T' => {
                    let n = self.u32()? as usize;
                    let v = self.string(n)?;
                    stack.push(v)
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    stack.push(Val::Global(module, name))
                }
                0x93 => {
                    let name = pop!();
                    let module = pop!();
                    match (module, name) {
                        (Val::Str(m), Val::Str(n)) => stack.push(Val::Global(m, n)),
                        _ => return Err(self.err("STACK_GLOBAL needs two strings")),
                    }
                }
                b'q' => {
                    let i = u32::from(self.u8()?);
                    memo.insert(
                        i,
                        stack
                            .last()
                            .cloned()
                            .ok_or_else(|| self.err("empty stack"))?,
                    );
                }
                b'r' => {
                    let i = self.u32()?;
                    memo.insert(
                        i,
                        stack
                            .last()
                            .cloned()
                            .ok_or_else(|| self.err("empty stack"))?,
                    );
                }
                0x94 => {
                    let i = memo.len() as u32;
                    memo.insert(
                        i,
                        stack
                            .last()
                            .cloned()
                            .ok_or_else(|| self.err("empty stack"))?,
                    );
                }
                b'h' => {
                    let i = u32::from(self.u8()?);
                    stack.push(
                        memo.get(&i)
                            .cloned()
                            .ok_or_else(|| self.err("bad memo index"))?,
                    )
                }
                b'j' => {
                    let i = self.u32()?;
                    stack.push(
                        memo.get(&i)
                            .cloned()
                            .ok_or_else(|| self.err("bad memo index"))?,
                    )
                }
                b't' => {
                    let items = self.pop_mark(&mut stack)?;
                    stack.push(Val::Tuple(items))
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if stack.len() < n {
                        return Err(self.err("stack underflow"));
                    }
                    let items = stack.split_off(stack.len() - n);
                    stack.push(Val::Tuple(items))
                }
                b'Q' => {
                    let pid = pop!();
                    stack.push(Val::PersId(Box::new(pid)))
                }
                b'R' => {
                    let args = pop!();
                    let func = pop!();
                    let v = self.reduce(func, args)?;
                    stack.push(v)
                }
                0x81 => {
                    // NEWOBJ
                    let _args = pop!();
                    let _cls = pop!();
                    stack.push(Val::Object)
                }
                b'b' => {
                    let _state = pop!(); // BUILD: state ignored (OrderedDict metadata)
                }
                b's' => {
                    let v = pop!();
                    let k = pop!();
                    match stack.last_mut() {
                        Some(Val::Dict(d)) => d.push((k, v)),
                        _ => return Err(self.err("SETITEM on a non-dict")),
                    }
                }
                b'u' => {
                    let items = self.pop_mark(&mut stack)?;
                    if items.len() % 2 != 0 {
                        return Err(self.err("odd SETITEMS"));
                    }
                    let Some(Val::Dict(d)) = stack.last_mut() else {
                        return Err(self.err("SETITEMS on a non-dict"));
                    };
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        d.push((k, v));
                    }
                }
                b'a' => {
                    let v = pop!();
                    match stack.last_mut() {
                        Some(Val::List(l)) => l.push(v),
                        _ => return Err(self.err("APPEND on a non-list")),
                    }
                }
                b'e' => {
                    let items = self.pop_mark(&mut stack)?;
                    match stack.last_mut() {
                        Some(Val::List(l)) => l.extend(items),
                        _ => return Err(self.err("APPENDS on a non-list")),
                    }
                }
                other => return Err(self.err(format!("unsupported pickle opcode 0x{other:02x}"))),
            }
        }
    }

    fn pop_mark(&self, stack: &mut Vec<Val>) -> Result<Vec<Val>> {
        let m = stack
            .iter()
            .rposition(|v| *v == Val::Mark)
            .ok_or_else(|| self.err("no MARK on the stack"))?;
        let items = stack.split_off(m + 1);
        stack.pop();
        Ok(items)
    }

    fn reduce(&self, func: Val, args: Val) -> Result<Val> {
        let Val::Global(module, name) = func else {
            return Ok(Val::Object);
        };
        match (module.as_str(), name.as_str()) {
            ("collections", "OrderedDict") => Ok(Val::Dict(Vec::new())),
            ("torch._utils", "_rebuild_tensor_v2") => {
                let Val::Tuple(a) = args else {
                    return Err(self.err("_rebuild_tensor_v2 without an argument tuple"));
                };
                let (
                    Some(Val::PersId(pid)),
                    Some(Val::Int(offset)),
                    Some(Val::Tuple(size)),
                    Some(Val::Tuple(stride)),
                ) = (a.first(), a.get(1), a.get(2), a.get(3))
                else {
                    return Err(self.err("unexpected _rebuild_tensor_v2 arguments"));
                };
                let Val::Tuple(p) = pid.as_ref() else {
                    return Err(self.err("storage persistent id is not a tuple"));
                };
                let (Some(Val::Global(_, dtype)), Some(Val::Str(key))) = (p.get(1), p.get(2))
                else {
                    return Err(self.err("unexpected storage persistent id"));
                };
                let ints = |v: &[Val]| -> Result<Vec<usize>> {
                    v.iter()
                        .map(|x| match x {
                            Val::Int(i) if *i >= 0 => Ok(*i as usize),
                            _ => Err(self.err("tensor size/stride is not a non-negative int")),
                        })
                        .collect()
                };
                Ok(Val::Tensor(TensorRef {
                    storage: key.clone(),
                    dtype: dtype.clone(),
                    offset: usize::try_from(*offset)
                        .map_err(|_| self.err("negative storage offset"))?,
                    size: ints(size)?,
                    stride: ints(stride)?,
                }))
            }
            _ => Ok(Val::Object),
        }
    }
}

/// An opened PyTorch zip checkpoint.
struct Checkpoint {
    file: String,
    root: String,
    zip: zip::ZipArchive<std::fs::File>,
    value: Val,
}

impl Checkpoint {
    fn open(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
        let mut zip = zip::ZipArchive::new(f)
            .map_err(|e| Error::convert(&file, format!("not a PyTorch zip checkpoint: {e}")))?;
        let pkl = (0..zip.len())
            .filter_map(|i| zip.name_for_index(i).map(str::to_string))
            .find(|n| n.ends_with("data.pkl") && n.matches('/').count() == 1)
            .ok_or_else(|| Error::convert(&file, "no <root>/data.pkl entry"))?;
        let root = pkl.trim_end_matches("data.pkl").to_string();
        if let Ok(mut bo) = zip.by_name(&format!("{root}byteorder")) {
            let mut s = String::new();
            let _ = bo.read_to_string(&mut s);
            if s.trim() == "big" {
                return Err(Error::convert(
                    &file,
                    "big-endian checkpoints are not supported",
                ));
            }
        }
        let bytes = read_entry(&mut zip, &pkl, &file)?;
        let value = Unpickler {
            data: &bytes,
            pos: 0,
            file: &file,
        }
        .run()?;
        Ok(Checkpoint {
            file,
            root,
            zip,
            value,
        })
    }

    /// Materialize a tensor. Storages are read per tensor and not cached, so converting holds
    /// about one copy of the weights.
    fn load(&mut self, t: &TensorRef) -> Result<F32Tensor> {
        if t.dtype != "FloatStorage" {
            return Err(Error::convert(
                &self.file,
                format!(
                    "storage {} is {}, only FloatStorage is supported",
                    t.storage, t.dtype
                ),
            ));
        }
        let name = format!("{}data/{}", self.root, t.storage);
        let raw = read_entry(&mut self.zip, &name, &self.file)?;
        let s: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        drop(raw);
        if t.size.len() != t.stride.len() {
            return Err(Error::convert(
                &self.file,
                "tensor size and stride ranks differ",
            ));
        }
        let numel: usize = t.size.iter().product();
        let mut data = Vec::with_capacity(numel);
        let mut idx = vec![0usize; t.size.len()];
        for _ in 0..numel {
            let off = t.offset + idx.iter().zip(&t.stride).map(|(i, s)| i * s).sum::<usize>();
            data.push(*s.get(off).ok_or_else(|| {
                Error::convert(
                    &self.file,
                    format!("tensor runs past the end of storage {}", t.storage),
                )
            })?);
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if idx[d] < t.size[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Ok(F32Tensor {
            shape: t.size.clone(),
            data,
        })
    }
}

fn read_entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str, file: &str) -> Result<Vec<u8>> {
    let mut e = zip
        .by_name(name)
        .map_err(|e| Error::convert(file, format!("zip entry {name}: {e}")))?;
    let mut out = Vec::with_capacity(e.size() as usize);
    e.read_to_end(&mut out)
        .map_err(|e| Error::convert(file, format!("reading zip entry {name}: {e}")))?;
    Ok(out)
}

/// `W = g · v / ‖v‖` per index of axis 0 (norm over all other axes).
pub(crate) fn fold_weight_norm(g: &F32Tensor, v: &F32Tensor) -> Option<F32Tensor> {
    let rows = *v.shape.first()?;
    if rows == 0 || g.data.len() != rows || !v.data.len().is_multiple_of(rows) {
        return None;
    }
    let inner = v.data.len() / rows;
    let mut data = Vec::with_capacity(v.data.len());
    for (r, chunk) in v.data.chunks_exact(inner).enumerate() {
        let norm = chunk
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            .sqrt() as f32;
        // an all-zero row folds to zeros (0/0 would give NaN)
        let k = if norm == 0.0 { 0.0 } else { g.data[r] / norm };
        data.extend(chunk.iter().map(|&x| x * k));
    }
    Some(F32Tensor {
        shape: v.shape.clone(),
        data,
    })
}

/// Read the checkpoint into canonical names (no validation against the table).
fn collect_checkpoint(pth: &Path) -> Result<TensorSet> {
    let mut ck = Checkpoint::open(pth)?;
    let file = ck.file.clone();
    let Val::Dict(top) = std::mem::replace(&mut ck.value, Val::None) else {
        return Err(Error::convert(
            &file,
            "top-level object is not a dict of state dicts",
        ));
    };
    let mut flat: Vec<(String, TensorRef)> = Vec::new();
    for (k, v) in top {
        let (Val::Str(part), Val::Dict(sd)) = (k, v) else {
            return Err(Error::convert(
                &file,
                "top-level entries must be name -> state dict",
            ));
        };
        for (k, v) in sd {
            let (Val::Str(key), Val::Tensor(t)) = (k, v) else {
                continue;
            };
            let key = key.strip_prefix("module.").unwrap_or(&key);
            flat.push((format!("{part}.{key}"), t));
        }
    }
    let mut set = TensorSet::default();
    let mut pending_g: HashMap<String, F32Tensor> = HashMap::new();
    let mut pending_v: HashMap<String, F32Tensor> = HashMap::new();
    for (name, t) in &flat {
        if name.starts_with("bert.pooler.") || name.ends_with("position_ids") {
            continue;
        }
        let tensor = ck.load(t)?;
        if let Some(base) = name.strip_suffix(".weight_g") {
            pending_g.insert(base.to_string(), tensor);
        } else if let Some(base) = name.strip_suffix(".weight_v") {
            pending_v.insert(base.to_string(), tensor);
        } else {
            set.put(name.clone(), tensor)?;
        }
    }
    for (base, v) in pending_v {
        let g = pending_g.remove(&base).ok_or_else(|| Error::Tensor {
            name: format!("{base}.weight_g"),
            reason: format!("missing in {file} (weight_v without weight_g)"),
        })?;
        let w = fold_weight_norm(&g, &v).ok_or_else(|| Error::Tensor {
            name: format!("{base}.weight"),
            reason: format!("weight_g {:?} does not fit weight_v {:?}", g.shape, v.shape),
        })?;
        set.put(format!("{base}.weight"), w)?;
    }
    if let Some(base) = pending_g.keys().next() {
        return Err(Error::Tensor {
            name: format!("{base}.weight_v"),
            reason: format!("missing in {file} (weight_g without weight_v)"),
        });
    }
    Ok(set)
}

/// Convert `kokoro-v1_0.pth` into the canonical fp32 safetensors at `out` (written atomically).
pub fn convert_checkpoint(pth: &Path, out: &Path) -> Result<ConvertReport> {
    collect_checkpoint(pth)?.write(out)
}

/// Convert a checkpoint without checking it against the canonical Kokoro table
/// (for other or partial checkpoints; names are still `module.`-stripped and weight norm folded).
pub fn convert_checkpoint_unchecked(pth: &Path, out: &Path) -> Result<ConvertReport> {
    collect_checkpoint(pth)?.write_unchecked(out)
}

/// Convert a voice pack `voices/<name>.pt` (one f32 tensor [510, 1, 256]) into a raw
/// little-endian f32 `.bin` of [510, 256] (written atomically).
pub fn convert_voice(pt: &Path, out_bin: &Path) -> Result<()> {
    let mut ck = Checkpoint::open(pt)?;
    let Val::Tensor(t) = ck.value.clone() else {
        return Err(Error::convert(&ck.file, "not a single-tensor voice pack"));
    };
    let numel: usize = t.size.iter().product();
    if numel as u64 * 4 != VOICE_BYTES
        || t.size.first() != Some(&510)
        || t.size.last() != Some(&256)
    {
        return Err(Error::convert(
            &ck.file,
            format!(
                "voice tensor has shape {:?}, expected [510, 1, 256]",
                t.size
            ),
        ));
    }
    let tensor = ck.load(&t)?;
    let bytes: Vec<u8> = tensor.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    util::write_atomic(out_bin, &bytes)
}

#[cfg(test)]
pub(crate) mod tests;
