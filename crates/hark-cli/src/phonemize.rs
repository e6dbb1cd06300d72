//! `hark phonemize`: the front end on its own.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;
use hark_text::{EspeakG2p, FrontEnd, G2p, Lang, Lexicon, Phonemize, Sources};
use serde::Deserialize;

use crate::util::{asset_dir, text_arg};

#[derive(Args, Debug)]
pub struct PhonemizeArgs {
    /// Text to phonemize (`-` or nothing: read stdin).
    pub text: Option<String>,
    /// en-us, en-gb, es, fr-fr, it, pt-br, hi or zh (or Kokoro's letter: a b e f i p h z).
    #[arg(long, default_value = "en-us")]
    pub lang: Lang,
    /// Read `{"id","text"}` JSON lines on stdin, write `{"id","phonemes"}` lines (bad lines get `{"id","error"}`).
    #[arg(long, conflicts_with = "text")]
    pub jsonl: bool,
    /// English: don't call the espeak-ng program for unknown words (use the built-in
    /// letter-to-sound rules).
    #[arg(long)]
    pub no_espeak: bool,
    /// Every language but English: read exactly as misaki does, its mistakes included (es,
    /// fr-fr, it, pt-br, hi: numbers split at `.` and `,`, minus signs dropped, `¡ ¿` kept, the
    /// danda dropped; zh: Latin words copied raw, years digit by digit; ja: `（）` as `« »`,
    /// numbers split at commas).
    #[arg(long)]
    pub misaki_quirks: bool,
}

#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    text: String,
}

/// The reader of `args.lang`, with the flags that apply to it.
fn reader(assets: Option<&Path>, args: &PhonemizeArgs) -> Result<FrontEnd> {
    if args.lang.is_english() {
        let dir = asset_dir(assets)?;
        let lexicon = Lexicon::load(&dir.lexicons_dir(), args.lang).with_context(|| {
            format!(
                "loading lexicons; run `hark fetch` (assets: {})",
                dir.root().display()
            )
        })?;
        return Ok(G2p::new(lexicon).with_espeak(!args.no_espeak).into());
    }
    if args.lang.espeak_voice().is_some() {
        let r = EspeakG2p::new(args.lang)?.with_misaki_quirks(args.misaki_quirks);
        return Ok(r.into());
    }
    let dir = asset_dir(assets)?;
    let (lexicons, japanese) = (dir.lexicons_dir(), dir.ja_dir());
    let sources = Sources {
        // (Mandarin reads its English words with American English when the lexicons are there)
        lexicons: lexicons.is_dir().then_some(lexicons.as_path()),
        japanese: Some(&japanese),
    };
    Ok(match FrontEnd::load(args.lang, sources)? {
        FrontEnd::Mandarin(zh) if args.misaki_quirks => FrontEnd::Mandarin(zh.misaki_exact()),
        FrontEnd::Japanese(ja) if args.misaki_quirks => FrontEnd::Japanese(ja.misaki_exact()),
        reader => reader,
    })
}

pub fn run(assets: Option<&Path>, args: PhonemizeArgs) -> Result<()> {
    let g2p = reader(assets, &args)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !args.jsonl {
        let text = text_arg(args.text)?;
        writeln!(out, "{}", g2p.phonemize(&text).phonemes())?;
        return Ok(out.flush()?);
    }
    let mut bad = 0usize;
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Line>(&line) {
            Ok(l) => {
                serde_json::json!({ "id": l.id, "phonemes": g2p.phonemize(&l.text).phonemes() })
            }
            Err(e) => {
                bad += 1;
                tracing::warn!(line = n + 1, "bad JSON line: {e}");
                let id = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("id").cloned())
                    .unwrap_or(serde_json::Value::Null);
                serde_json::json!({ "id": id, "error": format!("line {}: {e}", n + 1) })
            }
        };
        serde_json::to_writer(&mut out, &reply)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if bad > 0 {
        anyhow::bail!("{bad} input line(s) were not valid {{\"id\",\"text\"}} JSON");
    }
    Ok(())
}
