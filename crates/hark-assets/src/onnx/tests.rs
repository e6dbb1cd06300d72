//! Unit tests on tiny hand-encoded ONNX protobufs.

use super::*;

// ---- a minimal protobuf encoder (test only)

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}
fn field_bytes(f: u32, b: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(f) << 3 | 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}
fn field_varint(f: u32, v: u64, out: &mut Vec<u8>) {
    varint(u64::from(f) << 3, out);
    varint(v, out);
}

enum Data {
    F32(Vec<f32>),
    /// float_data instead of raw_data
    F32Field(Vec<f32>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    /// int8 values carried in int32_data (packed)
    I8Field(Vec<i8>),
}

fn tensor(name: &str, dims: &[usize], data: Data) -> Vec<u8> {
    let mut t = Vec::new();
    // dims unpacked, as some exporters write them
    for &d in dims {
        field_varint(1, d as u64, &mut t);
    }
    match data {
        Data::F32(v) => {
            field_varint(2, 1, &mut t);
            let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            field_bytes(9, &raw, &mut t);
        }
        Data::F32Field(v) => {
            field_varint(2, 1, &mut t);
            let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            field_bytes(4, &raw, &mut t);
        }
        Data::I8(v) => {
            field_varint(2, 3, &mut t);
            let raw: Vec<u8> = v.iter().map(|&x| x as u8).collect();
            field_bytes(9, &raw, &mut t);
        }
        Data::U8(v) => {
            field_varint(2, 2, &mut t);
            field_bytes(9, &v, &mut t);
        }
        Data::I8Field(v) => {
            field_varint(2, 3, &mut t);
            let mut packed = Vec::new();
            for x in v {
                varint(i64::from(x) as u64, &mut packed);
            }
            field_bytes(5, &packed, &mut t);
        }
    }
    field_bytes(8, name.as_bytes(), &mut t);
    t
}

fn node(name: &str, op: &str, inputs: &[&str]) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        field_bytes(1, i.as_bytes(), &mut n);
    }
    field_bytes(2, b"out", &mut n);
    field_bytes(3, name.as_bytes(), &mut n);
    field_bytes(4, op.as_bytes(), &mut n);
    n
}

fn model(nodes: &[Vec<u8>], inits: &[Vec<u8>]) -> Vec<u8> {
    let mut g = Vec::new();
    for n in nodes {
        field_bytes(1, n, &mut g);
    }
    for t in inits {
        field_bytes(5, t, &mut g);
    }
    let mut m = Vec::new();
    field_varint(1, 8, &mut m); // ir_version, ignored
    field_bytes(7, &g, &mut m);
    m
}

fn convert(bytes: &[u8]) -> TensorSet {
    let g = parse_model(bytes).unwrap();
    collect(&g).unwrap()
}

fn get<'s>(s: &'s TensorSet, name: &str) -> &'s F32Tensor {
    s.map.get(name).unwrap_or_else(|| {
        panic!(
            "{name} missing; have {:?}",
            s.map.keys().collect::<Vec<_>>()
        )
    })
}

#[test]
fn scope_names_map_to_pytorch_paths() {
    let cases = [
        ("/encoder/F0.0/conv1", "predictor.F0.0.conv1"),
        (
            "/decoder/decoder/generator/resblocks.4/adain2.2/fc",
            "decoder.generator.resblocks.4.adain2.2.fc",
        ),
        (
            "/encoder/text_encoder/cnn.0/cnn.0.0",
            "text_encoder.cnn.0.0",
        ),
        (
            "/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/attention_11/query_11",
            "bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query",
        ),
        (
            "/encoder/predictor/text_encoder/lstms.0",
            "predictor.text_encoder.lstms.0",
        ),
        ("/encoder/bert_encoder", "bert_encoder"),
        ("/encoder/F0_proj", "predictor.F0_proj"),
    ];
    for (scope, want) in cases {
        assert_eq!(scope_to_name(scope).unwrap(), want, "{scope}");
    }
    assert!(scope_to_name("/foo/bar").is_err());
    assert!(scope_to_name("/decoder/generator").is_err());
}

#[test]
fn conv_per_channel_int8_and_per_tensor_uint8() {
    // per output channel (axis 0): 2 out channels, 1 in channel, kernel 2
    let q = vec![-3i8, 5, 127, -128];
    let scale = vec![0.5f32, 0.25];
    let zp = vec![1i8, -2];
    // per tensor uint8
    let qu = vec![0u8, 128, 255, 7];
    let m = model(
        &[
            node(
                "/encoder/F0.0/conv1/Conv_quant",
                "ConvInteger",
                &["x", "w_quantized", "xz", "w_zero_point"],
            ),
            node(
                "/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant",
                "ConvInteger",
                &["x", "u_quantized", "xz", "uzp"],
            ),
        ],
        &[
            tensor("w_quantized", &[2, 1, 2], Data::I8(q.clone())),
            tensor("w_scale", &[2], Data::F32(scale.clone())),
            tensor("w_zero_point", &[2], Data::I8(zp.clone())),
            tensor("u_quantized", &[1, 2, 2], Data::U8(qu.clone())),
            tensor("u_scale", &[], Data::F32(vec![0.1])),
            tensor("uzp", &[], Data::U8(vec![128])),
        ],
    );
    let s = convert(&m);
    let w = get(&s, "predictor.F0.0.conv1.weight");
    assert_eq!(w.shape, vec![2, 1, 2]);
    let want: Vec<f32> = (0..4)
        .map(|i| (f32::from(q[i]) - f32::from(zp[i / 2])) * scale[i / 2])
        .collect();
    assert_eq!(w.data, want);
    assert_eq!(w.data[2], 32.25); // (127 + 2) * 0.25: the channel's own zero point is used
    let u = get(&s, "text_encoder.cnn.0.0.weight");
    let want: Vec<f32> = qu
        .iter()
        .map(|&x| (f32::from(x) - 128.0) * 0.1f32)
        .collect();
    assert_eq!(u.data, want);
    assert_eq!(u.data[0], -12.8f32);
}

#[test]
fn matmul_integer_per_column_is_transposed() {
    // K=3 (in) x N=2 (out); per-column scale and zero point; int32_data-encoded int8 values
    let q: Vec<i8> = vec![1, 2, 3, 4, 5, 6];
    let m = model(
        &[node(
            "/decoder/decoder/generator/resblocks.4/adain2.2/fc/Gemm_MatMul_quant",
            "MatMulInteger",
            &["a", "fc.weight_quantized", "az", "shared_zp"],
        )],
        &[
            tensor("fc.weight_quantized", &[3, 2], Data::I8Field(q.clone())),
            tensor("fc.weight_scale", &[2], Data::F32Field(vec![2.0, 0.5])),
            // the node names another (deduplicated) zero point than fc.weight_zero_point
            tensor("shared_zp", &[2], Data::I8(vec![1, -1])),
            tensor("fc.weight_zero_point", &[2], Data::I8(vec![100, 100])),
        ],
    );
    let s = convert(&m);
    let w = get(&s, "decoder.generator.resblocks.4.adain2.2.fc.weight");
    assert_eq!(w.shape, vec![2, 3]);
    // row n = output column n of the K x N matrix
    assert_eq!(w.data, vec![0.0, 4.0, 8.0, 1.5, 2.5, 3.5]);
}

#[test]
fn gather_dequantize_and_named_floats_and_plain_convs() {
    let m = model(
        &[
            node(
                "/encoder/bert/embeddings/word_embeddings/Gather_quant_DequantizeLinear",
                "DequantizeLinear",
                &[
                    "/encoder/bert/embeddings/word_embeddings/Gather_output_0_quantized",
                    "emb.weight_scale",
                    "zp",
                ],
            ),
            node(
                "/decoder/decoder/generator/ups.0/ConvTranspose",
                "ConvTranspose",
                &["x", "/w", "decoder.decoder.generator.ups.0.bias"],
            ),
            node(
                "/decoder/decoder/generator/m_source/l_linear/MatMul",
                "MatMul",
                &["x", "onnx::MatMul_1"],
            ),
            node(
                "/decoder/decoder/generator/istft/stft/ConvTranspose",
                "ConvTranspose",
                &["x", "basis"],
            ),
            node(
                "/encoder/bert/encoder/x/attention/MatMul",
                "MatMul",
                &["a", "b"],
            ),
        ],
        &[
            tensor("emb.weight_quantized", &[2, 2], Data::I8(vec![1, -1, 3, 0])),
            tensor("emb.weight_scale", &[], Data::F32(vec![0.5])),
            tensor("zp", &[], Data::I8(vec![0])),
            tensor("/w", &[1, 2, 2], Data::F32(vec![1.0, 2.0, 3.0, 4.0])),
            tensor(
                "decoder.decoder.generator.ups.0.bias",
                &[2],
                Data::F32(vec![9.0, 8.0]),
            ),
            tensor("onnx::MatMul_1", &[3, 1], Data::F32(vec![1.0, 2.0, 3.0])),
            tensor("basis", &[1], Data::F32(vec![0.0])),
            tensor(
                "encoder.text_encoder.cnn.0.1.gamma",
                &[2],
                Data::F32Field(vec![1.5, 2.5]),
            ),
            tensor(
                "decoder.decoder.generator.alpha1.0",
                &[1, 2, 1],
                Data::F32(vec![0.1, 0.2]),
            ),
            tensor(
                "decoder.decoder.generator.stft.istft.x",
                &[1],
                Data::F32(vec![0.0]),
            ),
            tensor("encoder.bert.x.weight_scale", &[], Data::F32(vec![1.0])),
        ],
    );
    let s = convert(&m);
    assert_eq!(
        get(&s, "bert.embeddings.word_embeddings.weight").data,
        vec![0.5, -0.5, 1.5, 0.0]
    );
    assert_eq!(
        get(&s, "decoder.generator.ups.0.weight").data,
        vec![1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(get(&s, "decoder.generator.ups.0.bias").data, vec![9.0, 8.0]);
    let l = get(&s, "decoder.generator.m_source.l_linear.weight");
    assert_eq!(
        (l.shape.clone(), l.data.clone()),
        (vec![1, 3], vec![1.0, 2.0, 3.0])
    );
    assert_eq!(get(&s, "text_encoder.cnn.0.1.gamma").data, vec![1.5, 2.5]);
    assert_eq!(get(&s, "decoder.generator.alpha1.0").shape, vec![1, 2, 1]);
    assert_eq!(s.map.len(), 6, "{:?}", s.map.keys().collect::<Vec<_>>());
}

#[test]
fn lstm_gates_are_reordered_and_directions_split() {
    // H = 1, in = 1: 4H = 4 columns in ONNX gate order (i, o, f, c)
    let w: Vec<i8> = vec![1, 2, 3, 4, /* reverse */ 5, 6, 7, 8];
    let r: Vec<i8> = vec![10, 20, 30, 40, 50, 60, 70, 80];
    let b: Vec<f32> = (0..16).map(|x| x as f32).collect();
    let m = model(
        &[node(
            "/encoder/predictor/lstm/LSTM_quant",
            "DynamicQuantizeLSTM",
            &[
                "x",
                "W_quantized",
                "R_quantized",
                "B",
                "",
                "h0",
                "c0",
                "",
                "W_scale",
                "W_zp",
                "R_scale",
                "R_zp",
            ],
        )],
        &[
            tensor("W_quantized", &[2, 1, 4], Data::I8(w)),
            tensor("R_quantized", &[2, 1, 4], Data::I8(r)),
            tensor("B", &[2, 8], Data::F32(b)),
            tensor("W_scale", &[2], Data::F32(vec![1.0, 0.5])),
            tensor("W_zp", &[2], Data::I8(vec![0, 1])),
            tensor("R_scale", &[2], Data::F32(vec![0.1, 1.0])),
            tensor("R_zp", &[2], Data::I8(vec![0, 0])),
        ],
    );
    let s = convert(&m);
    // torch order (i, f, g, o) = onnx blocks (0, 2, 3, 1)
    assert_eq!(
        get(&s, "predictor.lstm.weight_ih_l0").data,
        vec![1.0, 3.0, 4.0, 2.0]
    );
    assert_eq!(get(&s, "predictor.lstm.weight_ih_l0").shape, vec![4, 1]);
    assert_eq!(
        get(&s, "predictor.lstm.weight_ih_l0_reverse").data,
        vec![2.0, 3.0, 3.5, 2.5]
    );
    let hh = &get(&s, "predictor.lstm.weight_hh_l0").data;
    assert_eq!(hh, &vec![10.0 * 0.1f32, 30.0 * 0.1, 40.0 * 0.1, 20.0 * 0.1]);
    assert_eq!(
        get(&s, "predictor.lstm.weight_hh_l0_reverse").data,
        vec![50.0, 70.0, 80.0, 60.0]
    );
    assert_eq!(
        get(&s, "predictor.lstm.bias_ih_l0").data,
        vec![0.0, 2.0, 3.0, 1.0]
    );
    assert_eq!(
        get(&s, "predictor.lstm.bias_hh_l0").data,
        vec![4.0, 6.0, 7.0, 5.0]
    );
    assert_eq!(
        get(&s, "predictor.lstm.bias_ih_l0_reverse").data,
        vec![8.0, 10.0, 11.0, 9.0]
    );
    assert_eq!(
        get(&s, "predictor.lstm.bias_hh_l0_reverse").data,
        vec![12.0, 14.0, 15.0, 13.0]
    );
}

#[test]
fn lstm_matrix_transpose_with_more_rows() {
    // in = 2, H = 1: W[d] is [2, 4]; weight_ih must be [4, 2]
    let onnx: Vec<f32> = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let t = lstm_weight(&onnx, 2, 1);
    assert_eq!(t.shape, vec![4, 2]);
    assert_eq!(t.data, vec![1.0, 5.0, 3.0, 7.0, 4.0, 8.0, 2.0, 6.0]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for junk in [
        &b""[..],
        b"\xff\xff\xff",
        b"\x3a\x10abc",
        b"hello world, not onnx",
    ] {
        let g = parse_model(junk);
        assert!(g.is_err(), "{junk:?}");
    }
    // a node referring to a missing initializer
    let m = model(
        &[node(
            "/encoder/F0.0/conv1/Conv_quant",
            "ConvInteger",
            &["x", "w_quantized", "xz", "wz"],
        )],
        &[],
    );
    let err = collect(&parse_model(&m).unwrap()).unwrap_err().to_string();
    assert!(err.contains("w_quantized"), "{err}");
    // conversion of an incomplete model names the first missing canonical tensor
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.safetensors");
    let err = convert_int8_onnx(&model(&[], &[]), &out)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bert.embeddings.LayerNorm.bias") && err.contains("missing"),
        "{err}"
    );
    assert!(!out.exists());
}
