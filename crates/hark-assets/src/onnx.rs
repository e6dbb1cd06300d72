//! Int8 ONNX export of Kokoro v1.0 → canonical fp32 safetensors.
//!
//! The export (dynamic int8/uint8 quantization, weight norm folded) is read with a minimal
//! protobuf reader. Quantized weights are dequantized as `(f32(q) − f32(zero_point)) × f32(scale)`,
//! per tensor or per axis as the export stores them; the PyTorch module path is recovered from
//! each node's name scope. The result is checked against the canonical tensor table.

use std::collections::HashMap;
use std::path::Path;

pub use crate::canonical::ConvertReport;
use crate::canonical::{F32Tensor, TensorSet};
use crate::error::{Error, Result};

const SRC: &str = "ONNX model";

fn bad(reason: impl Into<String>) -> Error {
    Error::convert(SRC, reason)
}

// ---------------------------------------------------------------- protobuf wire format

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

enum Value<'a> {
    Varint(u64),
    Fixed64,
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| bad("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint longer than 10 bytes"))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| bad("length-delimited field runs past the end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// Next `(field number, value)`, or None at the end.
    fn next(&mut self) -> Result<Option<(u32, Value<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = (key >> 3) as u32;
        let v = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let n = self.varint()? as usize;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            w => return Err(bad(format!("unsupported protobuf wire type {w}"))),
        };
        Ok(Some((field, v)))
    }
}

fn utf8(b: &[u8]) -> Result<String> {
    String::from_utf8(b.to_vec()).map_err(|_| bad("string field is not UTF-8"))
}

/// Append varints from a packed or unpacked repeated integer field.
fn push_ints(v: Value<'_>, out: &mut Vec<i64>) -> Result<()> {
    match v {
        Value::Varint(x) => out.push(x as i64),
        Value::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return Err(bad("integer field with unexpected wire type")),
    }
    Ok(())
}

// ---------------------------------------------------------------- ONNX messages

const FLOAT: i32 = 1;
const UINT8: i32 = 2;
const INT8: i32 = 3;

/// An initializer, borrowing its raw bytes from the model buffer.
#[derive(Default)]
struct Tensor<'a> {
    dims: Vec<usize>,
    data_type: i32,
    raw: Option<&'a [u8]>,
    float_data: Vec<f32>,
    int32_data: Vec<i64>,
}

impl Tensor<'_> {
    fn numel(&self) -> usize {
        self.dims.iter().product()
    }
    /// Values as f32 (exact for int8/uint8), checked against the element count.
    fn to_f32(&self, name: &str) -> Result<Vec<f32>> {
        let n = self.numel();
        let v: Vec<f32> = match (self.data_type, self.raw) {
            (FLOAT, Some(r)) => r
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            (FLOAT, None) => self.float_data.clone(),
            (INT8, Some(r)) => r.iter().map(|&b| f32::from(b as i8)).collect(),
            (UINT8, Some(r)) => r.iter().map(|&b| f32::from(b)).collect(),
            (INT8, None) => self
                .int32_data
                .iter()
                .map(|&x| f32::from(x as i8))
                .collect(),
            (UINT8, None) => self
                .int32_data
                .iter()
                .map(|&x| f32::from(x as u8))
                .collect(),
            (t, _) => {
                return Err(bad(format!(
                    "initializer {name} has data type {t}, expected float, int8 or uint8"
                )))
            }
        };
        if v.len() != n {
            return Err(bad(format!(
                "initializer {name} holds {} values for shape {:?}",
                v.len(),
                self.dims
            )));
        }
        Ok(v)
    }
}

struct Node {
    name: String,
    op_type: String,
    inputs: Vec<String>,
}

struct Graph<'a> {
    nodes: Vec<Node>,
    /// Initializers in file order.
    inits: Vec<(String, Tensor<'a>)>,
    index: HashMap<String, usize>,
}

impl<'a> Graph<'a> {
    fn init(&self, name: &str) -> Result<&Tensor<'a>> {
        self.index
            .get(name)
            .map(|&i| &self.inits[i].1)
            .ok_or_else(|| bad(format!("initializer {name} not found")))
    }
    fn values(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
        let t = self.init(name)?;
        Ok((t.dims.clone(), t.to_f32(name)?))
    }
}

fn parse_tensor(b: &[u8]) -> Result<(String, Tensor<'_>)> {
    let mut t = Tensor::default();
    let mut name = String::new();
    let mut dims = Vec::new();
    let mut r = Reader::new(b);
    while let Some((f, v)) = r.next()? {
        match (f, v) {
            (1, v) => push_ints(v, &mut dims)?,
            (2, Value::Varint(x)) => t.data_type = x as i32,
            (4, Value::Bytes(p)) => t.float_data.extend(
                p.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
            (4, Value::Fixed32(x)) => t.float_data.push(f32::from_bits(x)),
            (5, v) => push_ints(v, &mut t.int32_data)?,
            (8, Value::Bytes(s)) => name = utf8(s)?,
            (9, Value::Bytes(s)) => t.raw = Some(s),
            (14, Value::Varint(1)) => {
                return Err(bad(format!(
                    "initializer {name} uses external data, which is not supported"
                )))
            }
            _ => {}
        }
    }
    t.dims = dims
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| bad(format!("negative dim in {name}"))))
        .collect::<Result<_>>()?;
    Ok((name, t))
}

fn parse_node(b: &[u8]) -> Result<Node> {
    let mut n = Node {
        name: String::new(),
        op_type: String::new(),
        inputs: Vec::new(),
    };
    let mut r = Reader::new(b);
    while let Some((f, v)) = r.next()? {
        match (f, v) {
            (1, Value::Bytes(s)) => n.inputs.push(utf8(s)?),
            (3, Value::Bytes(s)) => n.name = utf8(s)?,
            (4, Value::Bytes(s)) => n.op_type = utf8(s)?,
            _ => {}
        }
    }
    Ok(n)
}

fn parse_model(bytes: &[u8]) -> Result<Graph<'_>> {
    let mut graph = None;
    let mut r = Reader::new(bytes);
    while let Some((f, v)) = r.next()? {
        if let (7, Value::Bytes(g)) = (f, v) {
            graph = Some(g);
        }
    }
    let g =
        graph.ok_or_else(|| bad("no graph (ModelProto field 7) found; is this an ONNX model?"))?;
    let mut out = Graph {
        nodes: Vec::new(),
        inits: Vec::new(),
        index: HashMap::new(),
    };
    let mut r = Reader::new(g);
    while let Some((f, v)) = r.next()? {
        match (f, v) {
            (1, Value::Bytes(b)) => out.nodes.push(parse_node(b)?),
            (5, Value::Bytes(b)) => {
                let (name, t) = parse_tensor(b)?;
                out.index.insert(name.clone(), out.inits.len());
                out.inits.push((name, t));
            }
            _ => {}
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- name mapping

/// `/encoder/F0.0/conv1` → `predictor.F0.0.conv1`; `/decoder/decoder/X` → `decoder.X`;
/// a component followed by one of its own dotted children is dropped
/// (`cnn.0/cnn.0.0` → `cnn.0.0`), and `_N` repeat suffixes are removed (`query_11` → `query`).
pub(crate) fn scope_to_name(scope: &str) -> Result<String> {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    let (top, rest) = parts
        .split_first()
        .ok_or_else(|| bad(format!("empty scope {scope:?}")))?;
    let mut path: Vec<&str> = Vec::new();
    match *top {
        "decoder" => {
            if rest.first() != Some(&"decoder") {
                return Err(bad(format!("unexpected decoder scope {scope:?}")));
            }
            path.extend_from_slice(rest);
        }
        "encoder" => {
            match rest.first() {
                Some(&("bert" | "bert_encoder" | "text_encoder" | "predictor")) => {}
                Some(_) => path.push("predictor"),
                None => return Err(bad(format!("unexpected encoder scope {scope:?}"))),
            }
            path.extend_from_slice(rest);
        }
        _ => {
            return Err(bad(format!(
                "node scope {scope:?} is neither /encoder nor /decoder"
            )))
        }
    }
    let mut out: Vec<&str> = Vec::new();
    for (i, c) in path.iter().enumerate() {
        if let Some(next) = path.get(i + 1) {
            if next.len() > c.len() && next.starts_with(c) && next.as_bytes()[c.len()] == b'.' {
                continue;
            }
        }
        out.push(strip_repeat_suffix(c));
    }
    Ok(out.join("."))
}

fn strip_repeat_suffix(c: &str) -> &str {
    if let Some(i) = c.rfind('_') {
        let tail = &c[i + 1..];
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            return &c[..i];
        }
    }
    c
}

fn scope_of(node_name: &str) -> &str {
    node_name.rsplit_once('/').map_or("", |(s, _)| s)
}

// ---------------------------------------------------------------- dequantization

/// `(q − zp) × scale` with scale/zero point either scalar or per index of `axis`.
fn dequantize(g: &Graph<'_>, q: &str, scale: &str, zp: &str, axis: usize) -> Result<F32Tensor> {
    let (dims, qv) = g.values(q)?;
    let (_, s) = g.values(scale)?;
    let (_, z) = g.values(zp)?;
    if axis >= dims.len() {
        return Err(bad(format!(
            "{q}: quantization axis {axis} out of range for {dims:?}"
        )));
    }
    let len = dims[axis];
    let inner: usize = dims[axis + 1..].iter().product();
    let check = |v: &[f32], what: &str| -> Result<()> {
        if v.len() == 1 || v.len() == len {
            Ok(())
        } else {
            Err(bad(format!(
                "{what} has {} values; expected 1 or {len} for {q} {dims:?}",
                v.len()
            )))
        }
    };
    check(&s, scale)?;
    check(&z, zp)?;
    if s.len() == 1 && z.len() != 1 {
        return Err(bad(format!(
            "{q}: per-axis zero point {zp} with a per-tensor scale"
        )));
    }
    let data = qv
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let c = (i / inner) % len;
            let sc = if s.len() == 1 { s[0] } else { s[c] };
            let zc = if z.len() == 1 { z[0] } else { z[c] };
            (x - zc) * sc
        })
        .collect();
    Ok(F32Tensor { shape: dims, data })
}

fn transpose2(t: &F32Tensor) -> F32Tensor {
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut data = vec![0f32; r * c];
    for i in 0..r {
        for j in 0..c {
            data[j * r + i] = t.data[i * c + j];
        }
    }
    F32Tensor {
        shape: vec![c, r],
        data,
    }
}

fn need_2d(t: &F32Tensor, what: &str) -> Result<()> {
    if t.shape.len() == 2 {
        Ok(())
    } else {
        Err(bad(format!(
            "{what}: expected a matrix, got shape {:?}",
            t.shape
        )))
    }
}

fn input(n: &Node, i: usize) -> Result<&str> {
    n.inputs
        .get(i)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(format!("node {} ({}) lacks input {i}", n.name, n.op_type)))
}

fn quantized_base<'s>(n: &Node, w: &'s str) -> Result<&'s str> {
    w.strip_suffix("_quantized").ok_or_else(|| {
        bad(format!(
            "node {}: weight {w} is not a _quantized initializer",
            n.name
        ))
    })
}

/// ONNX LSTM gate blocks (i, o, f, c) → PyTorch (i, f, g, o), for an [.., 4H] row-major matrix
/// given as `rows` rows of `4H` columns; output is transposed to [4H, rows].
fn lstm_weight(w: &[f32], rows: usize, h: usize) -> F32Tensor {
    const ORDER: [usize; 4] = [0, 2, 3, 1]; // torch block k takes onnx block ORDER[k]
    let cols = 4 * h;
    let mut data = vec![0f32; cols * rows];
    for (k, &src) in ORDER.iter().enumerate() {
        for j in 0..h {
            let oc = src * h + j;
            let out_row = k * h + j;
            for r in 0..rows {
                data[out_row * rows + r] = w[r * cols + oc];
            }
        }
    }
    F32Tensor {
        shape: vec![cols, rows],
        data,
    }
}

fn lstm_bias(b: &[f32], h: usize) -> F32Tensor {
    const ORDER: [usize; 4] = [0, 2, 3, 1];
    let mut data = Vec::with_capacity(4 * h);
    for &src in &ORDER {
        data.extend_from_slice(&b[src * h..(src + 1) * h]);
    }
    F32Tensor {
        shape: vec![4 * h],
        data,
    }
}

fn convert_lstm(g: &Graph<'_>, n: &Node, set: &mut TensorSet) -> Result<()> {
    let name = scope_to_name(scope_of(&n.name))?;
    let (wd, w) = g.values(input(n, 1)?)?;
    let (rd, r) = g.values(input(n, 2)?)?;
    let (bd, b) = g.values(input(n, 3)?)?;
    let (_, ws) = g.values(input(n, 8)?)?;
    let (_, wz) = g.values(input(n, 9)?)?;
    let (_, rs) = g.values(input(n, 10)?)?;
    let (_, rz) = g.values(input(n, 11)?)?;
    if wd.len() != 3 || rd.len() != 3 || wd[0] != 2 || rd[0] != 2 || rd[2] % 4 != 0 {
        return Err(bad(format!(
            "LSTM {}: unexpected W {wd:?} / R {rd:?}",
            n.name
        )));
    }
    let (inp, h) = (wd[1], rd[1]);
    if wd[2] != 4 * h || rd[2] != 4 * h || bd != [2, 8 * h] {
        return Err(bad(format!(
            "LSTM {}: inconsistent W {wd:?} R {rd:?} B {bd:?}",
            n.name
        )));
    }
    for (v, what) in [
        (&ws, "W scale"),
        (&wz, "W zero point"),
        (&rs, "R scale"),
        (&rz, "R zero point"),
    ] {
        if v.len() != 2 {
            return Err(bad(format!(
                "LSTM {}: {what} must have one value per direction",
                n.name
            )));
        }
    }
    for (d, suffix) in [(0usize, ""), (1, "_reverse")] {
        let wlen = inp * 4 * h;
        let wq: Vec<f32> = w[d * wlen..(d + 1) * wlen]
            .iter()
            .map(|&q| (q - wz[d]) * ws[d])
            .collect();
        let rlen = h * 4 * h;
        let rq: Vec<f32> = r[d * rlen..(d + 1) * rlen]
            .iter()
            .map(|&q| (q - rz[d]) * rs[d])
            .collect();
        let bb = &b[d * 8 * h..(d + 1) * 8 * h];
        set.put(
            format!("{name}.weight_ih_l0{suffix}"),
            lstm_weight(&wq, inp, h),
        )?;
        set.put(
            format!("{name}.weight_hh_l0{suffix}"),
            lstm_weight(&rq, h, h),
        )?;
        set.put(
            format!("{name}.bias_ih_l0{suffix}"),
            lstm_bias(&bb[..4 * h], h),
        )?;
        set.put(
            format!("{name}.bias_hh_l0{suffix}"),
            lstm_bias(&bb[4 * h..], h),
        )?;
    }
    Ok(())
}

fn float_init(g: &Graph<'_>, name: &str) -> Result<F32Tensor> {
    let t = g.init(name)?;
    if t.data_type != FLOAT {
        return Err(bad(format!("initializer {name} is not float")));
    }
    Ok(F32Tensor {
        shape: t.dims.clone(),
        data: t.to_f32(name)?,
    })
}

/// Convert the tensors of a parsed graph (no validation against the canonical table).
fn collect(g: &Graph<'_>) -> Result<TensorSet> {
    let mut set = TensorSet::default();
    for n in &g.nodes {
        if n.name.contains("istft") {
            continue;
        }
        let scope = scope_of(&n.name);
        match n.op_type.as_str() {
            "ConvInteger" => {
                let w = input(n, 1)?;
                let base = quantized_base(n, w)?;
                let t = dequantize(g, w, &format!("{base}_scale"), input(n, 3)?, 0)?;
                set.put(format!("{}.weight", scope_to_name(scope)?), t)?;
            }
            "Conv" | "ConvTranspose" => {
                let name = scope_to_name(scope)?;
                set.put(format!("{name}.weight"), float_init(g, input(n, 1)?)?)?;
                if let Some(b) = n.inputs.get(2).filter(|s| !s.is_empty()) {
                    set.put(format!("{name}.bias"), float_init(g, b)?)?;
                }
            }
            "MatMulInteger" => {
                let w = input(n, 1)?;
                let base = quantized_base(n, w)?;
                let t = dequantize(g, w, &format!("{base}_scale"), input(n, 3)?, 1)?;
                need_2d(&t, w)?;
                set.put(format!("{}.weight", scope_to_name(scope)?), transpose2(&t))?;
            }
            "MatMul" if n.inputs.get(1).is_some_and(|w| g.index.contains_key(w)) => {
                let t = float_init(g, input(n, 1)?)?;
                need_2d(&t, &n.name)?;
                set.put(format!("{}.weight", scope_to_name(scope)?), transpose2(&t))?;
            }
            "DequantizeLinear" if input(n, 0)?.ends_with("Gather_output_0_quantized") => {
                let s = input(n, 1)?;
                let base = s
                    .strip_suffix("_scale")
                    .ok_or_else(|| bad(format!("node {}: scale {s} lacks _scale", n.name)))?;
                let t = dequantize(g, &format!("{base}_quantized"), s, input(n, 2)?, 0)?;
                let scope = if scope.ends_with("Gather_quant") {
                    scope_of(scope)
                } else {
                    scope
                };
                set.put(format!("{}.weight", scope_to_name(scope)?), t)?;
            }
            "DynamicQuantizeLSTM" => convert_lstm(g, n, &mut set)?,
            _ => {}
        }
    }
    for (k, _) in &g.inits {
        let short = if let Some(r) = k.strip_prefix("encoder.") {
            r.to_string()
        } else if let Some(r) = k.strip_prefix("decoder.decoder.") {
            format!("decoder.{r}")
        } else {
            continue;
        };
        let skip = ["_quantized", "_scale", "_zero_point", "reshape_shape"]
            .iter()
            .any(|s| k.ends_with(s))
            || k.contains("stft");
        if !skip {
            set.put(short, float_init(g, k)?)?;
        }
    }
    Ok(set)
}

/// Convert the int8 ONNX export (bytes of `model.onnx`) into the canonical fp32 safetensors at
/// `out` (written atomically). Fails, naming the tensor, if any canonical tensor is missing,
/// duplicated with different values or misshapen.
pub fn convert_int8_onnx(onnx_bytes: &[u8], out: &Path) -> Result<ConvertReport> {
    let g = parse_model(onnx_bytes)?;
    let set = collect(&g)?;
    tracing::debug!(tensors = set.map.len(), "ONNX tensors collected");
    set.write(out)
}

#[cfg(test)]
pub(crate) mod tests;
