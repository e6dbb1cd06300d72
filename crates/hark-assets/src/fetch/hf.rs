//! Source: the `hexgrad/Kokoro-82M` repository on a Hugging Face endpoint.

use std::collections::HashMap;

use serde::Deserialize;

use super::http::{self, Expect};
use super::{Ctx, Group, Installed};
use crate::error::{Error, Result};
use crate::layout::{CONFIG_FILE, EMBEDDED_CONFIG, WEIGHTS_FILE};
use crate::{pth, util};

const REPO: &str = "hexgrad/Kokoro-82M";
const CHECKPOINT: &str = "kokoro-v1_0.pth";

/// One entry of a tree listing.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Entry {
    #[serde(rename = "type")]
    pub kind: String,
    pub path: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub lfs: Option<Lfs>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Lfs {
    pub oid: String,
    #[serde(default)]
    pub size: Option<u64>,
}

impl Entry {
    fn expect(&self) -> Expect<'_> {
        Expect {
            size: self.lfs.as_ref().and_then(|l| l.size).or(self.size),
            sha256: self.lfs.as_ref().map(|l| l.oid.as_str()),
        }
    }
}

/// Listings fetched during one `fetch` call (an unreachable endpoint is tried once).
#[derive(Default)]
pub(crate) struct HfState {
    listings: HashMap<String, std::result::Result<Vec<Entry>, String>>,
}

fn listing(
    ctx: &mut Ctx<'_>,
    agent: &ureq::Agent,
    endpoint: &str,
    sub: &str,
) -> Result<Vec<Entry>> {
    let url = format!(
        "{}/api/models/{REPO}/tree/main{sub}",
        endpoint.trim_end_matches('/')
    );
    if let Some(r) = ctx.hf.listings.get(&url) {
        return r.clone().map_err(|reason| Error::Http {
            url: url.clone(),
            reason,
        });
    }
    let r = http::get_text(agent, &url).and_then(|body| {
        serde_json::from_str::<Vec<Entry>>(&body).map_err(|e| Error::Http {
            url: url.clone(),
            reason: format!("bad listing JSON: {e}"),
        })
    });
    let cached = match &r {
        Ok(v) => Ok(v.clone()),
        Err(Error::Http { reason, .. }) => Err(reason.clone()),
        Err(e) => Err(e.to_string()),
    };
    ctx.hf.listings.insert(url, cached);
    r
}

fn find<'e>(entries: &'e [Entry], path: &str, url: &str) -> Result<&'e Entry> {
    entries
        .iter()
        .find(|e| e.kind == "file" && e.path == path)
        .ok_or_else(|| Error::NotFound {
            url: format!("{url} (no {path} in the listing)"),
        })
}

fn resolve_url(endpoint: &str, path: &str) -> String {
    format!(
        "{}/{REPO}/resolve/main/{path}",
        endpoint.trim_end_matches('/')
    )
}

/// Fetch one group; `Ok(None)` for lexicons, which this repository does not carry.
pub(crate) fn fetch_group(
    group: Group,
    endpoint: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<Vec<Installed>>> {
    let agent = http::agent();
    match group {
        Group::Lexicons => Ok(None),
        Group::Weights => weights(&agent, endpoint, ctx).map(Some),
        Group::Voices => voices(&agent, endpoint, ctx).map(Some),
    }
}

fn weights(agent: &ureq::Agent, endpoint: &str, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let list_url = format!("{endpoint}/api/models/{REPO}/tree/main");
    let entries = listing(ctx, agent, endpoint, "")?;
    let ck = find(&entries, CHECKPOINT, &list_url)?.clone();
    let cfg = find(&entries, CONFIG_FILE, &list_url)?.clone();

    let cfg_url = resolve_url(endpoint, CONFIG_FILE);
    let cfg_dl = ctx.dl("hf/config.json");
    http::download(
        agent,
        &cfg_url,
        &cfg_dl,
        &cfg.expect(),
        CONFIG_FILE,
        ctx.progress,
    )?;
    let cfg_bytes = std::fs::read(&cfg_dl).map_err(|e| Error::io("read", &cfg_dl, e))?;
    check_config(&cfg_bytes, &cfg_url)?;

    let ck_url = resolve_url(endpoint, CHECKPOINT);
    let ck_dl = ctx.dl(&format!("hf/{CHECKPOINT}"));
    http::download(
        agent,
        &ck_url,
        &ck_dl,
        &ck.expect(),
        CHECKPOINT,
        ctx.progress,
    )?;
    (ctx.progress)(super::Progress::Start {
        what: format!("convert {CHECKPOINT}"),
        total_bytes: None,
    });
    let rep = pth::convert_checkpoint(&ck_dl, &ctx.dir.weights_path())?;
    (ctx.progress)(super::Progress::Done {
        what: format!("convert {CHECKPOINT}"),
    });
    tracing::info!(?rep, "converted {CHECKPOINT}");
    util::write_atomic(&ctx.dir.config_path(), &cfg_bytes)?;
    Ok(vec![
        (WEIGHTS_FILE.to_string(), ck_url),
        (CONFIG_FILE.to_string(), cfg_url),
    ])
}

/// A downloaded config must be JSON with the same vocabulary as the embedded, verified one.
fn check_config(bytes: &[u8], url: &str) -> Result<()> {
    let got: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| Error::Package {
        package: url.to_string(),
        reason: format!("config is not JSON: {e}"),
    })?;
    let want: serde_json::Value =
        serde_json::from_str(EMBEDDED_CONFIG).expect("embedded config is JSON");
    if got.get("vocab") != want.get("vocab") {
        return Err(Error::Package {
            package: url.to_string(),
            reason: "config vocab differs from Kokoro v1.0's".into(),
        });
    }
    Ok(())
}

fn voices(agent: &ureq::Agent, endpoint: &str, ctx: &mut Ctx<'_>) -> Result<Vec<Installed>> {
    let list_url = format!("{endpoint}/api/models/{REPO}/tree/main/voices");
    let entries = listing(ctx, agent, endpoint, "/voices")?;
    // check every requested voice is offered before downloading anything
    let mut todo = Vec::new();
    for v in &ctx.voices {
        let path = format!("voices/{v}.pt");
        match find(&entries, &path, &list_url) {
            Ok(e) => todo.push((v.clone(), e.clone())),
            Err(_) => {
                return Err(Error::UnknownVoice {
                    name: v.clone(),
                    source_name: list_url,
                })
            }
        }
    }
    let mut out = Vec::new();
    for (v, e) in todo {
        let url = resolve_url(endpoint, &e.path);
        let dl = ctx.dl(&format!("hf/voices/{v}.pt"));
        http::download(agent, &url, &dl, &e.expect(), &e.path, ctx.progress)?;
        pth::convert_voice(&dl, &ctx.dir.voice_path(&v))?;
        out.push((format!("voices/{v}.bin"), url));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
