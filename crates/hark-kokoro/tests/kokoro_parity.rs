//! Parity with the reference implementation on the 14 golden cases (deterministic mode).
//!
//! Needs the real weights: `$HARK_ASSETS/kokoro-v1_0.safetensors` (or the user data dir);
//! fails with instructions when they are absent.

mod common;

use common::{compare, load_cases, real_model};
use hark_kokoro::ForwardOptions;

// Audio tolerances. The reference is chaotic with respect to float round-off at one place: the
// phase of near-zero STFT bins of the harmonic source is an input feature of the generator
// (whatever the bin's magnitude), so round-off residues with arbitrary phase change the
// waveform. Perturbing the excitation of case-01 by one f32 ulp (1e-7 relative) moves the
// output by corr 0.9926 / rel L2 0.124; perturbing only the voiced (non-constant) samples
// changes nothing measurable. We compute the exact spectrum of constant (unvoiced) frames, but
// PyTorch's FFT leaves its own residues there, so bit-level parity is out of reach: measured
// worst over the 14 cases is corr 0.9945, rel L2 0.105, spectral convergence 0.040 (case-01;
// the long cases reach corr 0.998-0.9995). For scale, the reference's own noisy vs
// deterministic runs differ by corr 0.956-0.997 and spectral convergence ~0.05-0.08.
const AUDIO_MIN_CORR: f64 = 0.99;
const AUDIO_MAX_REL_L2: f64 = 0.15;
const AUDIO_MAX_SPECTRAL: f64 = 0.06;

#[test]
fn parity_with_reference_cases() {
    let model = real_model();
    let only: Vec<String> = std::env::var("HARK_PARITY_CASES")
        .map(|v| {
            v.split(',')
                .map(|s| format!("case-{:0>2}", s.trim()))
                .collect()
        })
        .unwrap_or_default();
    let cases: Vec<_> = load_cases()
        .into_iter()
        .filter(|c| only.is_empty() || only.contains(&c.name))
        .collect();
    let mut failures = vec![];
    let mut worst_corr = 1f64;
    let mut worst_rel = 0f64;
    let mut worst_sc = 0f64;
    for case in &cases {
        let style = &case.f32("ref_s").0;
        let opts = ForwardOptions {
            deterministic: true,
            seed: 0,
            trace: true,
            ..Default::default()
        };
        let out = model
            .forward_ids(&case.input_ids, style, case.speed, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let tr = out.trace.as_ref().unwrap();
        if out.durations != case.pred_dur {
            let diff: Vec<_> = out
                .durations
                .iter()
                .zip(&case.pred_dur)
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| (i, *a, *b, tr.duration.0[i], case.f32("duration").0[i]))
                .collect();
            failures.push(format!(
                "{}: durations differ (token, ours, ref, our real, ref real): {diff:?}",
                case.name
            ));
            continue;
        }
        let mut line = format!("{:8}", case.name);
        for (name, got, tol) in [
            ("bert", &tr.bert, 1e-4),
            ("d_en", &tr.d_en, 1e-4),
            ("d", &tr.d, 1e-4),
            ("duration", &tr.duration, 1e-5),
            ("t_en", &tr.t_en, 1e-4),
            ("F0", &tr.f0, 1e-3),
            ("N", &tr.n, 1e-3),
        ] {
            let want = case.f32(name);
            assert_eq!(got.1, want.1, "{}: {name} shape", case.name);
            let (rel, maxabs, _) = compare(&got.0, &want.0);
            line += &format!(" {name}={rel:.1e}/{maxabs:.1e}");
            if rel > tol {
                failures.push(format!(
                    "{}: {name} relative L2 error {rel:.3e} > {tol:.0e}",
                    case.name
                ));
            }
        }
        let want = &case.f32("audio").0;
        if let Some(dir) = std::env::var_os("HARK_PARITY_DUMP") {
            let bytes: Vec<u8> = out.audio.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{}.f32", case.name)),
                bytes,
            )
            .unwrap();
        }
        assert_eq!(out.audio.len(), want.len(), "{}: audio length", case.name);
        let (rel, maxabs, corr) = compare(&out.audio, want);
        let sc = common::spectral_convergence(&out.audio, want);
        line += &format!(" audio rel={rel:.4} max={maxabs:.4} corr={corr:.6} sc={sc:.4}");
        worst_sc = worst_sc.max(sc);
        eprintln!("{line}");
        worst_corr = worst_corr.min(corr);
        worst_rel = worst_rel.max(rel);
        if corr < AUDIO_MIN_CORR || rel > AUDIO_MAX_REL_L2 || sc > AUDIO_MAX_SPECTRAL {
            failures.push(format!(
                "{}: audio corr {corr:.6} (≥ {AUDIO_MIN_CORR}), rel L2 {rel:.4} (≤ {AUDIO_MAX_REL_L2}), \
                 spectral convergence {sc:.4} (≤ {AUDIO_MAX_SPECTRAL})",
                case.name
            ));
        }
    }
    eprintln!(
        "worst audio correlation {worst_corr:.6}, worst relative L2 {worst_rel:.4}, worst spectral convergence {worst_sc:.4}"
    );
    assert!(
        failures.is_empty(),
        "parity failures:\n{}",
        failures.join("\n")
    );
}
