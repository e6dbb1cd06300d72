//! The decoder: F0/energy downsampling and the AdaIN residual stack at the frame rate, in front
//! of the iSTFTNet [`Generator`].
//!
//! Ports `Decoder` of kokoro 0.9.4's `kokoro/istftnet.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/istftnet.py>).

use crate::config::Config;
use crate::error::Result;
use crate::kernels::pass::Pass;
use crate::nn::blocks::AdainResBlk1d;
use crate::nn::generator::Generator;
use crate::nn::layers::Conv1d;
use crate::nn::weights::Vb;

pub(crate) struct Decoder {
    pub(crate) f0_conv: Conv1d,
    pub(crate) n_conv: Conv1d,
    pub(crate) encode: AdainResBlk1d,
    pub(crate) asr_res: Conv1d,
    pub(crate) decode: Vec<AdainResBlk1d>,
    generator: Generator,
}

impl Decoder {
    /// Also returns the weight source's mapped-tensor count before the generator's tensors.
    pub(crate) fn new(vb: &mut Vb, cfg: &Config) -> Result<(Self, usize)> {
        let d = cfg.hidden_dim;
        let dd = cfg.decoder_dim();
        let r = cfg.asr_res_dim();
        let sty = cfg.style_dim;
        let uic = cfg.istftnet.upsample_initial_channel;
        let mut decode = vec![];
        for i in 0..4 {
            let last = i == 3;
            decode.push(AdainResBlk1d::new(
                &mut vb.pp(format!("decode.{i}")),
                dd + 2 + r,
                if last { uic } else { dd },
                sty,
                last,
            )?);
        }
        let f0_conv = Conv1d::new(&mut vb.pp("F0_conv"), 1, 1, 3, 2, 1, 1, true)?;
        let n_conv = Conv1d::new(&mut vb.pp("N_conv"), 1, 1, 3, 2, 1, 1, true)?;
        let encode = AdainResBlk1d::new(&mut vb.pp("encode"), d + 2, dd, sty, false)?;
        let asr_res = Conv1d::new(&mut vb.pp("asr_res.0"), d, r, 1, 1, 0, 1, true)?;
        let gen_mark = vb.mapped_count();
        let generator = Generator::new(&mut vb.pp("generator"), cfg)?;
        Ok((
            Self {
                f0_conv,
                n_conv,
                encode,
                asr_res,
                decode,
                generator,
            },
            gen_mark,
        ))
    }

    /// `asr [d, L]`, `f0, n [2L]`, decoder style → generator input `([uic, 2L], 2L)`.
    pub(crate) fn decode(
        &self,
        asr: &[f32],
        l: usize,
        f0: &[f32],
        n: &[f32],
        s: &[f32],
        pass: &mut Pass,
    ) -> Result<(Vec<f32>, usize)> {
        let t0 = std::time::Instant::now();
        let f0d = self.f0_conv.forward(f0, 2 * l, None);
        let nd = self.n_conv.forward(n, 2 * l, None);
        debug_assert_eq!(f0d.len(), l);
        let mut x = Vec::with_capacity((asr.len() / l + 2) * l);
        x.extend_from_slice(asr);
        x.extend_from_slice(&f0d);
        x.extend_from_slice(&nd);
        let (mut x, mut t) = self.encode.forward(&x, l, s, pass);
        let r = self.asr_res.forward(asr, l, None);
        for blk in &self.decode {
            pass.cancel.check()?;
            // The residual features are concatenated before every block (the flag only turns
            // off after the upsampling block, which is the last one).
            let mut cat = Vec::with_capacity((blk.cin) * t);
            cat.extend_from_slice(&x);
            cat.extend_from_slice(&r);
            cat.extend_from_slice(&f0d);
            cat.extend_from_slice(&nd);
            let (y, t2) = blk.forward(&cat, t, s, pass);
            x = y;
            t = t2;
        }
        pass.timings.decoder += t0.elapsed().as_secs_f64();
        Ok((x, t))
    }

    /// The generator behind the residual stack.
    pub(crate) fn generator(&self) -> &Generator {
        &self.generator
    }
}
