//! Decoder (AdaIN residual stack at the frame rate) and the iSTFTNet generator.

use crate::blocks::{AdaInResBlock1, AdainResBlk1d, RunningNorms};
use crate::config::Config;
use crate::kernels::{leaky_relu_inplace, Conv1d, ConvTranspose1d, Prologue};
use crate::model::Cancel;
use crate::source;
use crate::weights::{Vb, Weight};
use crate::Result;

pub(crate) struct Decoder {
    f0_conv: Conv1d,
    n_conv: Conv1d,
    encode: AdainResBlk1d,
    asr_res: Conv1d,
    decode: Vec<AdainResBlk1d>,
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
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn decode(
        &self,
        asr: &[f32],
        l: usize,
        f0: &[f32],
        n: &[f32],
        s: &[f32],
        mut running: Option<&mut RunningNorms>,
        timings: &mut crate::model::Timings,
        cancel: Cancel,
    ) -> Result<(Vec<f32>, usize)> {
        let t0 = std::time::Instant::now();
        let f0d = self.f0_conv.forward(f0, 2 * l, None);
        let nd = self.n_conv.forward(n, 2 * l, None);
        debug_assert_eq!(f0d.len(), l);
        let mut x = Vec::with_capacity((asr.len() / l + 2) * l);
        x.extend_from_slice(asr);
        x.extend_from_slice(&f0d);
        x.extend_from_slice(&nd);
        let (mut x, mut t) = self.encode.forward(&x, l, s, running.as_deref_mut());
        let r = self.asr_res.forward(asr, l, None);
        for blk in &self.decode {
            cancel.check()?;
            // The residual features are concatenated before every block (the flag only turns
            // off after the upsampling block, which is the last one).
            let mut cat = Vec::with_capacity((blk.cin) * t);
            cat.extend_from_slice(&x);
            cat.extend_from_slice(&r);
            cat.extend_from_slice(&f0d);
            cat.extend_from_slice(&nd);
            let (y, t2) = blk.forward(&cat, t, s, running.as_deref_mut());
            x = y;
            t = t2;
        }
        timings.decoder += t0.elapsed().as_secs_f64();
        Ok((x, t))
    }

    /// Generator input from [`decode`](Self::decode) for the F0-rate window `f0_range` of the
    /// whole chunk's raw F0 `f0 [2L]`, decoder style → audio `[300·f0_range.len()]`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn generate(
        &self,
        x: Vec<f32>,
        t: usize,
        s: &[f32],
        f0: &[f32],
        f0_range: std::ops::Range<usize>,
        noise: Option<u64>,
        running: Option<&mut RunningNorms>,
        timings: &mut crate::model::Timings,
        cancel: Cancel,
    ) -> Result<Vec<f32>> {
        debug_assert_eq!(t, f0_range.len());
        self.generator
            .forward(x, t, s, f0, f0_range, noise, running, timings, cancel)
    }
}

pub(crate) struct Generator {
    l_w: Weight,
    l_b: f32,
    ups: Vec<ConvTranspose1d>,
    noise_convs: Vec<Conv1d>,
    noise_res: Vec<AdaInResBlock1>,
    resblocks: Vec<AdaInResBlock1>,
    conv_post: Conv1d,
    n_fft: usize,
    hop: usize,
    up_total: usize,
    n_kernels: usize,
}

impl Generator {
    fn new(vb: &mut Vb, cfg: &Config) -> Result<Self> {
        let ic = &cfg.istftnet;
        let sty = cfg.style_dim;
        let uic = ic.upsample_initial_channel;
        let n_fft = ic.gen_istft_n_fft;
        let hop = ic.gen_istft_hop_size;
        let bins2 = n_fft + 2;
        let mut ms = vb.pp("m_source.l_linear");
        let l_w = ms.get("weight", &[1, source::N_HARMONICS])?;
        let l_b = ms.get("bias", &[1])?[0];
        let mut ups = vec![];
        let mut noise_convs = vec![];
        let mut noise_res = vec![];
        let mut resblocks = vec![];
        let n_stages = ic.upsample_rates.len();
        for i in 0..n_stages {
            let (u, k) = (ic.upsample_rates[i], ic.upsample_kernel_sizes[i]);
            let cin = uic >> i;
            let cout = uic >> (i + 1);
            ups.push(ConvTranspose1d::new(
                &mut vb.pp(format!("ups.{i}")),
                cin,
                cout,
                k,
                u,
                (k - u) / 2,
                0,
            )?);
            if i + 1 < n_stages {
                let stride_f0: usize = ic.upsample_rates[i + 1..].iter().product();
                noise_convs.push(Conv1d::new(
                    &mut vb.pp(format!("noise_convs.{i}")),
                    bins2,
                    cout,
                    stride_f0 * 2,
                    stride_f0,
                    stride_f0.div_ceil(2),
                    1,
                    true,
                )?);
                noise_res.push(AdaInResBlock1::new(
                    &mut vb.pp(format!("noise_res.{i}")),
                    cout,
                    7,
                    &[1, 3, 5],
                    sty,
                )?);
            } else {
                noise_convs.push(Conv1d::new(
                    &mut vb.pp(format!("noise_convs.{i}")),
                    bins2,
                    cout,
                    1,
                    1,
                    0,
                    1,
                    true,
                )?);
                noise_res.push(AdaInResBlock1::new(
                    &mut vb.pp(format!("noise_res.{i}")),
                    cout,
                    11,
                    &[1, 3, 5],
                    sty,
                )?);
            }
            for (j, (&rk, dil)) in ic
                .resblock_kernel_sizes
                .iter()
                .zip(&ic.resblock_dilation_sizes)
                .enumerate()
            {
                let idx = i * ic.resblock_kernel_sizes.len() + j;
                resblocks.push(AdaInResBlock1::new(
                    &mut vb.pp(format!("resblocks.{idx}")),
                    cout,
                    rk,
                    dil,
                    sty,
                )?);
            }
        }
        let last = uic >> n_stages;
        let conv_post = Conv1d::new(&mut vb.pp("conv_post"), last, bins2, 7, 1, 3, 1, true)?;
        Ok(Self {
            l_w,
            l_b,
            ups,
            noise_convs,
            noise_res,
            resblocks,
            conv_post,
            n_fft,
            hop,
            up_total: ic.upsample_rates.iter().product::<usize>() * hop,
            n_kernels: ic.resblock_kernel_sizes.len(),
        })
    }

    /// `x [uic, t]` for the window `f0_range` of the raw F0 `[2L]` → audio.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &self,
        mut x: Vec<f32>,
        t: usize,
        s: &[f32],
        f0: &[f32],
        f0_range: std::ops::Range<usize>,
        noise: Option<u64>,
        mut running: Option<&mut RunningNorms>,
        timings: &mut crate::model::Timings,
        cancel: Cancel,
    ) -> Result<Vec<f32>> {
        let t0 = std::time::Instant::now();
        let har = source::harmonic_source(
            f0,
            f0_range,
            self.up_total,
            crate::SAMPLE_RATE as f32,
            &self.l_w,
            self.l_b,
            noise,
        );
        let (spec, frames) = source::stft_mag_phase(&har, self.n_fft, self.hop);
        drop(har);
        let mut spec = Some(spec);
        timings.source += t0.elapsed().as_secs_f64();
        let mut t = t;
        let mut scratch = Vec::new();
        for i in 0..self.ups.len() {
            cancel.check()?;
            // The previous stage's (or the decoder's) buffers were freed into the allocator's
            // heap; hand those pages back before this stage's bigger buffers are mapped.
            crate::kernels::trim_heap();
            let ts = std::time::Instant::now();
            leaky_relu_inplace(&mut x, 0.1);
            let spec_ref = spec.as_deref().unwrap_or_default();
            let mut src = self.noise_convs[i].forward(spec_ref, frames, None);
            if i + 1 == self.ups.len() {
                spec = None;
            }
            let t_src = self.noise_convs[i].out_len(frames);
            self.noise_res[i].forward_inplace(
                &mut src,
                t_src,
                s,
                &mut scratch,
                running.as_deref_mut(),
                cancel,
            )?;
            // free the resblock scratch before the big upsampled buffers exist
            scratch = Vec::new();
            // the last stage is followed by ReflectionPad1d((1, 0)), fused into the conv
            let left = usize::from(i + 1 == self.ups.len());
            let mut y = self.ups[i].forward(&x, t, left);
            let ty = self.ups[i].out_len(t) + left;
            drop(x);
            assert_eq!(
                ty, t_src,
                "generator stage {i}: trunk {ty} vs source {t_src}"
            );
            y.iter_mut().zip(&src).for_each(|(a, b)| *a += b);
            drop(src);
            // Mean of the parallel resblocks.
            let nk = self.n_kernels;
            let mut acc = y.clone();
            self.resblocks[i * nk].forward_inplace(
                &mut acc,
                ty,
                s,
                &mut scratch,
                running.as_deref_mut(),
                cancel,
            )?;
            if nk > 2 {
                let mut xr = y.clone();
                for j in 1..nk - 1 {
                    xr.copy_from_slice(&y);
                    self.resblocks[i * nk + j].forward_inplace(
                        &mut xr,
                        ty,
                        s,
                        &mut scratch,
                        running.as_deref_mut(),
                        cancel,
                    )?;
                    acc.iter_mut().zip(&xr).for_each(|(a, b)| *a += b);
                }
            }
            if nk > 1 {
                self.resblocks[i * nk + nk - 1].forward_inplace(
                    &mut y,
                    ty,
                    s,
                    &mut scratch,
                    running.as_deref_mut(),
                    cancel,
                )?;
                acc.iter_mut().zip(&y).for_each(|(a, b)| *a += b);
            }
            drop(y);
            let inv = nk as f32;
            acc.iter_mut().for_each(|v| *v /= inv);
            x = acc;
            t = ty;
            timings.generator_stage[i.min(1)] += ts.elapsed().as_secs_f64();
        }
        cancel.check()?;
        let ts = std::time::Instant::now();
        let ones = vec![1f32; self.conv_post.cin];
        let zeros = vec![0f32; self.conv_post.cin];
        let pro = Prologue {
            scale: &ones,
            shift: &zeros,
            act: crate::kernels::Act::Leaky(0.01),
        };
        let y = self.conv_post.forward(&x, t, Some(&pro));
        drop(x);
        let audio = source::istft_from_post(&y, t, self.n_fft, self.hop);
        timings.post += ts.elapsed().as_secs_f64();
        Ok(audio)
    }
}
