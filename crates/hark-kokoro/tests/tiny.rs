//! Behaviour of the public API on the tiny random model (fast, no assets needed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hark_kokoro::{Config, Error, ForwardOptions, Kokoro, VoicePack, MAX_PHONEMES, SAMPLE_RATE};

mod common;

fn model() -> Kokoro {
    common::tiny_model(7)
}

fn voice(m: &Kokoro) -> VoicePack {
    VoicePack::random("tiny", 510, m.style_width(), 3)
}

const PS: &str = "həlˈO wˈɜɹld";

#[test]
fn audio_length_is_600_per_frame_and_durations_cover_pads() {
    let m = model();
    let v = voice(&m);
    let opts = ForwardOptions {
        deterministic: true,
        trace: true,
        ..Default::default()
    };
    let out = m.synthesize(PS, &v, 1.0, &opts).unwrap();
    let n = PS.chars().count();
    assert_eq!(out.durations.len(), n + 2);
    assert!(out.durations.iter().all(|&d| d >= 1));
    let l: usize = out.durations.iter().map(|&d| d as usize).sum();
    assert_eq!(m.config().samples_per_frame(), 600);
    assert_eq!(out.audio.len(), 600 * l);
    assert!(out.audio.iter().all(|v| v.is_finite()));
    let rms = (out.audio.iter().map(|v| v * v).sum::<f32>() / out.audio.len() as f32).sqrt();
    assert!(rms > 1e-5, "tiny model should not be silent (rms {rms})");
    let tr = out.trace.unwrap();
    let t = n + 2;
    let hd = m.config().hidden_dim;
    assert_eq!(tr.bert.1, vec![t, m.config().plbert.hidden_size]);
    assert_eq!(tr.d_en.1, vec![hd, t]);
    assert_eq!(tr.d.1, vec![t, hd + m.config().style_dim]);
    assert_eq!(tr.t_en.1, vec![hd, t]);
    assert_eq!(tr.duration.1, vec![t]);
    assert_eq!(tr.f0.1, vec![2 * l]);
    assert_eq!(tr.n.1, vec![2 * l]);
    for (x, s) in [
        &tr.bert,
        &tr.d_en,
        &tr.d,
        &tr.t_en,
        &tr.duration,
        &tr.f0,
        &tr.n,
    ] {
        assert_eq!(x.len(), s.iter().product::<usize>());
    }
    // integer durations are the rounded real durations, clamped at 1
    for (d, r) in out.durations.iter().zip(&tr.duration.0) {
        assert_eq!(*d, r.round_ties_even().max(1.0) as u32);
    }
    assert_eq!(SAMPLE_RATE, 24_000);
}

#[test]
fn speed_scales_durations() {
    let m = model();
    let v = voice(&m);
    let opts = ForwardOptions {
        deterministic: true,
        trace: true,
        ..Default::default()
    };
    let a = m
        .synthesize(PS, &v, 1.0, &opts)
        .unwrap()
        .trace
        .unwrap()
        .duration
        .0;
    let b = m
        .synthesize(PS, &v, 2.0, &opts)
        .unwrap()
        .trace
        .unwrap()
        .duration
        .0;
    for (x, y) in a.iter().zip(&b) {
        assert!((x / 2.0 - y).abs() < 1e-5 * x.abs().max(1.0));
    }
}

#[test]
fn seeds_and_deterministic_mode() {
    let m = model();
    let v = voice(&m);
    let run = |deterministic, seed| {
        m.synthesize(
            PS,
            &v,
            1.0,
            &ForwardOptions {
                deterministic,
                seed,
                ..Default::default()
            },
        )
        .unwrap()
        .audio
    };
    assert_eq!(run(false, 1), run(false, 1), "same seed, same audio");
    assert_ne!(run(false, 1), run(false, 2), "different seeds differ");
    assert_eq!(
        run(true, 1),
        run(true, 2),
        "deterministic mode ignores the seed"
    );
    assert_ne!(
        run(true, 1),
        run(false, 1),
        "noise is not zeroed outside deterministic mode"
    );
}

#[test]
fn bad_inputs_give_typed_errors() {
    let m = model();
    let v = voice(&m);
    let o = ForwardOptions::default();
    assert!(matches!(m.synthesize("", &v, 1.0, &o), Err(Error::Empty)));
    let long: String = "a".repeat(MAX_PHONEMES + 1);
    match m.synthesize(&long, &v, 1.0, &o) {
        Err(Error::TooLong { len, max }) => assert_eq!((len, max), (511, 510)),
        other => panic!("expected TooLong, got {other:?}"),
    }
    match m.synthesize("həZlˈO#Z", &v, 1.0, &o) {
        Err(Error::UnknownSymbols(s)) => assert_eq!(s, vec!['Z', '#']),
        other => panic!("expected UnknownSymbols, got {other:?}"),
    }
    for sp in [0.0, 0.2, 4.5, f32::NAN, f32::INFINITY, -1.0] {
        assert!(
            matches!(m.synthesize(PS, &v, sp, &o), Err(Error::BadSpeed(_))),
            "speed {sp}"
        );
    }
    let mut style = v.style_for(5).to_vec();
    style[3] = f32::NAN;
    let ids = m.vocab().encode(PS).unwrap();
    assert!(matches!(
        m.forward_ids(&ids, &style, 1.0, &o),
        Err(Error::BadStyle(_))
    ));
    assert!(matches!(
        m.forward_ids(&ids, &style[..10], 1.0, &o),
        Err(Error::BadStyle(_))
    ));
    assert!(matches!(
        m.forward_ids(&[0, 500, 0], v.style_for(1), 1.0, &o),
        Err(Error::BadTokenId { .. })
    ));
    assert!(matches!(
        m.forward_ids(&[0, 0], v.style_for(1), 1.0, &o),
        Err(Error::Empty)
    ));
}

#[test]
fn max_length_input_runs() {
    let m = model();
    let v = voice(&m);
    let ps: String = "ab ".repeat(170);
    assert_eq!(ps.chars().count(), MAX_PHONEMES);
    let out = m
        .synthesize(
            &ps,
            &v,
            4.0,
            &ForwardOptions {
                deterministic: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(out.durations.len(), MAX_PHONEMES + 2);
    assert_eq!(
        out.audio.len(),
        600 * out.durations.iter().sum::<u32>() as usize
    );
}

#[test]
fn vocab_and_voice_packs() {
    let cfg = Config::tiny();
    let v = hark_kokoro::Vocab::new(&cfg);
    assert_eq!(v.len(), 114);
    assert_eq!(v.encode("ɹ").unwrap(), vec![0, 123, 0]);
    assert!(v.contains('ˈ') && !v.contains('g'));
    let a = VoicePack::random("a", 4, 3, 1);
    let b = VoicePack::random("b", 4, 3, 2);
    assert_eq!(a.style_for(0), a.style_for(1));
    assert_eq!(a.style_for(100), a.style_for(4));
    let m = VoicePack::blend(&[(&a, 3.0), (&b, 1.0)]).unwrap();
    for i in 0..3 {
        let want = 0.75 * a.style_for(2)[i] + 0.25 * b.style_for(2)[i];
        assert!((m.style_for(2)[i] - want).abs() < 1e-6);
    }
    let c = VoicePack::random("c", 5, 3, 2);
    assert!(VoicePack::blend(&[(&a, 1.0), (&c, 1.0)]).is_err());
    assert!(VoicePack::blend(&[(&a, 0.0)]).is_err());
    let bytes: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let p = VoicePack::from_f32_le_bytes("x", &bytes, 2).unwrap();
    assert_eq!(
        (p.rows(), p.width(), p.style_for(2)),
        (2, 2, &[3.0f32, 4.0][..])
    );
    assert!(VoicePack::from_f32_le_bytes("x", &bytes[..6], 2).is_err());
}

#[test]
fn model_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Kokoro>();
    assert_send_sync::<VoicePack>();
    // and usable from another thread through a shared reference
    let m = std::sync::Arc::new(model());
    let v = voice(&m);
    let m2 = std::sync::Arc::clone(&m);
    let h = std::thread::spawn(move || {
        m2.synthesize(
            PS,
            &v,
            1.0,
            &ForwardOptions {
                deterministic: true,
                ..Default::default()
            },
        )
        .unwrap()
        .audio
        .len()
    });
    assert!(h.join().unwrap() > 0);
}

#[test]
fn cancel_flag_none_or_false_changes_nothing_and_true_cancels() {
    let m = model();
    let v = voice(&m);
    let base = ForwardOptions {
        deterministic: true,
        ..Default::default()
    };
    let plain = m.synthesize(PS, &v, 1.0, &base).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let with_false = ForwardOptions {
        cancel: Some(Arc::clone(&flag)),
        ..base.clone()
    };
    let out = m.synthesize(PS, &v, 1.0, &with_false).unwrap();
    assert_eq!(out.audio, plain.audio);
    assert_eq!(out.durations, plain.durations);
    flag.store(true, Ordering::SeqCst);
    assert!(matches!(
        m.synthesize(PS, &v, 1.0, &with_false),
        Err(Error::Cancelled)
    ));
    // the model is not poisoned by a cancelled pass
    flag.store(false, Ordering::SeqCst);
    assert_eq!(
        m.synthesize(PS, &v, 1.0, &with_false).unwrap().audio,
        plain.audio
    );
}

#[test]
fn cancel_from_another_thread_stops_a_long_pass_early() {
    let m = model();
    let v = voice(&m);
    let ps: String = "ab ".repeat(170);
    let opts = ForwardOptions {
        deterministic: true,
        ..Default::default()
    };
    // the longest input gives the longest generator run
    let t = Instant::now();
    m.synthesize(&ps, &v, 1.0, &opts).unwrap();
    let full = t.elapsed();
    // The flag is set from another thread a third of a pass in. Under a load that changes, this
    // pass can run much faster than the one timed above (or the setter wake late) and end before
    // the flag is set, or after it but past its last check (the pass returns Cancelled at its
    // next check): an Ok within the latency bound after the flag shows nothing, so that attempt
    // is made again with half the delay. An Ok later than that is a flag ignored.
    let bound = full.max(Duration::from_millis(50)) / 2;
    let mut delay = full / 3;
    for attempt in 1..=6 {
        let flag = Arc::new(AtomicBool::new(false));
        let opts = ForwardOptions {
            cancel: Some(Arc::clone(&flag)),
            ..opts.clone()
        };
        let setter = {
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                flag.store(true, Ordering::SeqCst);
                Instant::now()
            })
        };
        let t = Instant::now();
        let res = m.synthesize(&ps, &v, 1.0, &opts);
        let done = Instant::now();
        let set_at = setter.join().unwrap();
        if res.is_ok() && done.saturating_duration_since(set_at) < bound {
            eprintln!(
                "attempt {attempt}: the pass ended ({:?}) {:?} after the flag was set, within the bound; again with half the delay",
                done - t,
                done.saturating_duration_since(set_at)
            );
            delay /= 2;
            continue;
        }
        assert!(
            matches!(res, Err(Error::Cancelled)),
            "expected Cancelled after {:?} (flag set {:?} in, full pass {full:?}), got {:?}",
            t.elapsed(),
            set_at.saturating_duration_since(t),
            res.map(|s| s.audio.len())
        );
        let latency = done.saturating_duration_since(set_at);
        eprintln!("full pass {full:?}, cancelled {latency:?} after the flag was set");
        assert!(
            latency < bound,
            "cancellation took {latency:?} (full pass {full:?})"
        );
        return;
    }
    panic!("every pass ended within the bound after its cancel flag was set, none cancelled");
}
