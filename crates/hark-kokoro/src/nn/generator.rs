//! The iSTFTNet generator: two upsampling stages, each adding the harmonic source's spectrum
//! through a noise convolution and averaging three AdaIN/Snake resblocks, then a convolution to
//! magnitude and phase and the inverse STFT.
//!
//! Ports `Generator` of kokoro 0.9.4's `kokoro/istftnet.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/istftnet.py>).

use crate::config::Config;
use crate::conv::tiling::ClearOnDrop;
use crate::error::Result;
use crate::kernels::ops::{leaky_relu_inplace, trim_heap, Act, Prologue};
use crate::kernels::pass::Pass;
use crate::nn::blocks::AdaInResBlock1;
use crate::nn::layers::{Conv1d, ConvTranspose1d};
use crate::nn::source;
use crate::nn::stft;
use crate::nn::weights::{Vb, Weight};

pub(crate) struct Generator {
    pub(crate) l_w: Weight,
    pub(crate) l_b: f32,
    pub(crate) ups: Vec<ConvTranspose1d>,
    pub(crate) noise_convs: Vec<Conv1d>,
    pub(crate) noise_res: Vec<AdaInResBlock1>,
    pub(crate) resblocks: Vec<AdaInResBlock1>,
    pub(crate) conv_post: Conv1d,
    pub(crate) n_fft: usize,
    pub(crate) hop: usize,
    pub(crate) up_total: usize,
    pub(crate) n_kernels: usize,
}

impl Generator {
    pub(crate) fn new(vb: &mut Vb, cfg: &Config) -> Result<Self> {
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

    /// `x [uic, t]` from the decoder for the F0-rate window `f0_range` of the whole chunk's raw
    /// F0 `[2L]`, decoder style `s` → audio `[300·f0_range.len()]`. `noise`: the seed of the
    /// source's additive noise (`None`: deterministic).
    pub(crate) fn forward(
        &self,
        mut x: Vec<f32>,
        t: usize,
        s: &[f32],
        (f0, f0_range): (&[f32], std::ops::Range<usize>),
        noise: Option<u64>,
        pass: &mut Pass,
    ) -> Result<Vec<f32>> {
        debug_assert_eq!(t, f0_range.len());
        let t0 = std::time::Instant::now();
        let har = source::harmonic_source(
            f0,
            f0_range,
            self.up_total,
            crate::config::SAMPLE_RATE as f32,
            &self.l_w,
            self.l_b,
            noise,
        );
        let (spec, frames) = stft::stft_mag_phase(&har, self.n_fft, self.hop);
        drop(har);
        let mut spec = Some(spec);
        pass.timings.source += t0.elapsed().as_secs_f64();
        let mut t = t;
        let mut scratch = Vec::new();
        // The convolutions' kept buffers live for one stage (see `ConvBuffers`).
        let bufs = crate::conv::buffers();
        let _clear = ClearOnDrop(&bufs);
        for i in 0..self.ups.len() {
            pass.cancel.check()?;
            // The previous stage's (or the decoder's) buffers were freed into the allocator's
            // heap; hand those pages back before this stage's bigger buffers are mapped.
            bufs.clear();
            trim_heap();
            let ts = std::time::Instant::now();
            leaky_relu_inplace(&mut x, 0.1);
            let spec_ref = spec.as_deref().unwrap_or_default();
            let mut src = self.noise_convs[i].forward(spec_ref, frames, None);
            if i + 1 == self.ups.len() {
                spec = None;
            }
            let t_src = self.noise_convs[i].out_len(frames);
            self.noise_res[i].forward_inplace(&mut src, t_src, s, &mut scratch, pass)?;
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
            self.resblocks[i * nk].forward_inplace(&mut acc, ty, s, &mut scratch, pass)?;
            if nk > 2 {
                let mut xr = y.clone();
                for j in 1..nk - 1 {
                    xr.copy_from_slice(&y);
                    self.resblocks[i * nk + j].forward_inplace(
                        &mut xr,
                        ty,
                        s,
                        &mut scratch,
                        pass,
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
                    pass,
                )?;
                acc.iter_mut().zip(&y).for_each(|(a, b)| *a += b);
            }
            drop(y);
            let inv = nk as f32;
            acc.iter_mut().for_each(|v| *v /= inv);
            x = acc;
            t = ty;
            pass.timings.generator_stage[i.min(1)] += ts.elapsed().as_secs_f64();
        }
        pass.cancel.check()?;
        let ts = std::time::Instant::now();
        let ones = vec![1f32; self.conv_post.cin];
        let zeros = vec![0f32; self.conv_post.cin];
        let pro = Prologue {
            scale: &ones,
            shift: &zeros,
            act: Act::Leaky(0.01),
        };
        let y = self.conv_post.forward(&x, t, Some(&pro));
        drop(x);
        let audio = stft::istft_from_post(&y, t, self.n_fft, self.hop);
        pass.timings.post += ts.elapsed().as_secs_f64();
        Ok(audio)
    }
}
