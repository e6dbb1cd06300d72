//! Tests on hand-built PyTorch zip checkpoints (a tiny pickle protocol-2 writer).

use std::io::Write;

use super::*;

/// `(name, shape, values)` of one state-dict entry.
pub(crate) type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Minimal `torch.save`-style writer: pickle protocol 2 + zip with `archive/data/<key>` storages.
pub(crate) struct PickleWriter {
    out: Vec<u8>,
    storages: Vec<(String, Vec<f32>)>,
    memo: u8,
}

impl PickleWriter {
    pub fn new() -> Self {
        PickleWriter {
            out: vec![0x80, 2],
            storages: Vec::new(),
            memo: 0,
        }
    }
    fn put(&mut self) {
        self.out.extend_from_slice(&[b'q', self.memo]);
        self.memo = self.memo.wrapping_add(1);
    }
    fn str(&mut self, s: &str) {
        self.out.push(b'X');
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
        self.put();
    }
    fn int(&mut self, v: usize) {
        if v < 256 {
            self.out.extend_from_slice(&[b'K', v as u8]);
        } else if v < 65536 {
            self.out.push(b'M');
            self.out.extend_from_slice(&(v as u16).to_le_bytes());
        } else {
            self.out.push(b'J');
            self.out.extend_from_slice(&(v as i32).to_le_bytes());
        }
    }
    fn tuple(&mut self, v: &[usize]) {
        self.out.push(b'(');
        for &x in v {
            self.int(x);
        }
        self.out.push(b't');
    }
    /// A contiguous f32 tensor with its own storage.
    pub fn tensor(&mut self, shape: &[usize], data: Vec<f32>) {
        let key = self.storages.len().to_string();
        let mut stride = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * shape[d + 1];
        }
        self.out
            .extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n");
        self.put();
        self.out.push(b'(');
        // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
        self.out.push(b'(');
        self.str("storage");
        self.out.extend_from_slice(b"ctorch\nFloatStorage\n");
        self.put();
        self.str(&key);
        self.str("cpu");
        self.int(data.len());
        self.out.push(b't');
        self.out.push(b'Q');
        self.int(0);
        self.tuple(shape);
        self.tuple(&stride);
        self.out.push(0x89);
        self.out.extend_from_slice(b"ccollections\nOrderedDict\n");
        self.put();
        self.out.extend_from_slice(b")R");
        self.out.push(b't');
        self.out.push(b'R');
        self.put();
        self.storages.push((key, data));
    }
    /// `{part: OrderedDict{name: tensor}}` for each part.
    pub fn state_dicts(&mut self, parts: &[(&str, Vec<NamedTensor>)]) {
        self.out.push(b'}');
        self.put();
        self.out.push(b'(');
        for (part, tensors) in parts {
            self.str(part);
            self.out.extend_from_slice(b"ccollections\nOrderedDict\n");
            self.put();
            self.out.extend_from_slice(b")R");
            self.put();
            self.out.push(b'(');
            for (name, shape, data) in tensors {
                self.str(name);
                self.tensor(shape, data.clone());
            }
            self.out.push(b'u');
            // BUILD with the state dict's metadata, as torch writes it
            self.out.push(b'}');
            self.str("_metadata");
            self.out.push(b'N');
            self.out.push(b's');
            self.out.push(b'b');
        }
        self.out.push(b'u');
    }
    pub fn finish(mut self, path: &Path) {
        self.out.push(b'.');
        let f = std::fs::File::create(path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("archive/data.pkl", opts).unwrap();
        z.write_all(&self.out).unwrap();
        z.start_file("archive/byteorder", opts).unwrap();
        z.write_all(b"little").unwrap();
        for (key, data) in &self.storages {
            z.start_file(format!("archive/data/{key}"), opts).unwrap();
            for v in data {
                z.write_all(&v.to_le_bytes()).unwrap();
            }
        }
        z.start_file("archive/version", opts).unwrap();
        z.write_all(b"3\n").unwrap();
        z.finish().unwrap();
    }
}

fn read_st(path: &Path) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(k, v)| {
            let d = v
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (k, (v.shape().to_vec(), d))
        })
        .collect()
}

#[test]
fn checkpoint_folds_weight_norm_and_strips_module() {
    let tmp = tempfile::tempdir().unwrap();
    let pth = tmp.path().join("tiny.pth");
    // conv weight_v [2, 2, 2], weight_g [2, 1, 1]
    let v: Vec<f32> = vec![1.0, 2.0, 2.0, 4.0, 0.0, 3.0, 0.0, 4.0];
    let g: Vec<f32> = vec![10.0, 0.5];
    let mut w = PickleWriter::new();
    w.state_dicts(&[
        (
            "decoder",
            vec![
                (
                    "module.generator.conv_post.weight_g".into(),
                    vec![2, 1, 1],
                    g.clone(),
                ),
                (
                    "module.generator.conv_post.weight_v".into(),
                    vec![2, 2, 2],
                    v.clone(),
                ),
                (
                    "module.generator.conv_post.bias".into(),
                    vec![2],
                    vec![0.25, -0.25],
                ),
            ],
        ),
        (
            "bert",
            vec![
                ("module.pooler.weight".into(), vec![1, 1], vec![7.0]),
                (
                    "module.embeddings.LayerNorm.weight".into(),
                    vec![3],
                    vec![1.0, 1.5, 2.0],
                ),
            ],
        ),
    ]);
    w.finish(&pth);

    let out = tmp.path().join("out.safetensors");
    let rep = convert_checkpoint_unchecked(&pth, &out).unwrap();
    assert_eq!(rep.tensors, 3);
    let st = read_st(&out);
    let mut names: Vec<_> = st.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bert.embeddings.LayerNorm.weight",
            "decoder.generator.conv_post.bias",
            "decoder.generator.conv_post.weight"
        ]
    );
    let (shape, wt) = &st["decoder.generator.conv_post.weight"];
    assert_eq!(shape, &vec![2, 2, 2]);
    // row 0: ‖(1,2,2,4)‖ = 5 → ×10/5; row 1: ‖(0,3,0,4)‖ = 5 → ×0.5/5
    let want = [2.0f32, 4.0, 4.0, 8.0, 0.0, 0.3, 0.0, 0.4];
    for (a, b) in wt.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{wt:?}");
    }
    // each folded row has norm g
    for (r, gr) in g.iter().enumerate() {
        let n: f32 = wt[r * 4..r * 4 + 4]
            .iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt();
        assert!((n - gr).abs() < 1e-5);
    }
    assert_eq!(st["decoder.generator.conv_post.bias"].1, vec![0.25, -0.25]);

    // the checked conversion names a missing canonical tensor and writes nothing
    let out2 = tmp.path().join("canon.safetensors");
    let err = convert_checkpoint(&pth, &out2).unwrap_err().to_string();
    assert!(err.contains("missing"), "{err}");
    assert!(!out2.exists());
}

#[test]
fn zero_rows_fold_to_zero_not_nan() {
    let g = F32Tensor {
        shape: vec![2, 1, 1],
        data: vec![0.0, 2.0],
    };
    let v = F32Tensor {
        shape: vec![2, 1, 2],
        data: vec![0.0, 0.0, 3.0, 4.0],
    };
    let w = fold_weight_norm(&g, &v).unwrap();
    assert_eq!(w.data, vec![0.0, 0.0, 1.2, 1.6]);
    assert!(fold_weight_norm(
        &F32Tensor {
            shape: vec![3],
            data: vec![1.0; 3]
        },
        &v
    )
    .is_none());
}

#[test]
fn unpaired_weight_norm_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let pth = tmp.path().join("bad.pth");
    let mut w = PickleWriter::new();
    w.state_dicts(&[(
        "decoder",
        vec![("module.x.weight_v".into(), vec![1, 1, 1], vec![1.0])],
    )]);
    w.finish(&pth);
    let err = convert_checkpoint_unchecked(&pth, &tmp.path().join("o"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("decoder.x.weight_g"), "{err}");
}

#[test]
fn voice_pack_becomes_raw_bin() {
    let tmp = tempfile::tempdir().unwrap();
    let pt = tmp.path().join("af_test.pt");
    let data: Vec<f32> = (0..510 * 256).map(|i| i as f32 * 0.001 - 3.0).collect();
    let mut w = PickleWriter::new();
    w.tensor(&[510, 1, 256], data.clone());
    w.finish(&pt);
    let bin = tmp.path().join("voices/af_test.bin");
    convert_voice(&pt, &bin).unwrap();
    let raw = std::fs::read(&bin).unwrap();
    assert_eq!(raw.len() as u64, VOICE_BYTES);
    let back: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert_eq!(back, data);

    // wrong shape is rejected with the file named
    let small = tmp.path().join("small.pt");
    let mut w = PickleWriter::new();
    w.tensor(&[2, 1, 256], vec![0.0; 512]);
    w.finish(&small);
    let err = convert_voice(&small, &tmp.path().join("s.bin"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("small.pt") && err.contains("[2, 1, 256]"),
        "{err}"
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("junk.pth");
    std::fs::write(&p, b"definitely not a zip").unwrap();
    let err = convert_voice(&p, &tmp.path().join("o.bin"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("junk.pth"), "{err}");
    // a zip whose pickle is cut short
    let mut w = PickleWriter::new();
    w.tensor(&[510, 1, 256], vec![0.0; 510 * 256]);
    w.out.truncate(20);
    w.finish(&p);
    assert!(convert_voice(&p, &tmp.path().join("o.bin")).is_err());
}

#[test]
fn strided_tensors_are_gathered() {
    // a transposed view: size [2, 3], stride [1, 2] over storage 0..6
    let t = TensorRef {
        storage: "0".into(),
        dtype: "FloatStorage".into(),
        offset: 0,
        size: vec![2, 3],
        stride: vec![1, 2],
    };
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("s.pth");
    let mut w = PickleWriter::new();
    w.tensor(&[6], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    w.finish(&p);
    let mut ck = Checkpoint::open(&p).unwrap();
    let got = ck.load(&t).unwrap();
    assert_eq!(got.data, vec![0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
}
