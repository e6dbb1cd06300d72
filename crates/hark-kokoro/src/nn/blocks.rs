//! Residual blocks shared by the prosody predictor, the decoder and the generator.
//!
//! Ports `AdaIN1d`, `AdaINResBlock1`, `UpSample1d` and `AdainResBlk1d` of kokoro 0.9.4's `kokoro/istftnet.py`
//! (<https://github.com/hexgrad/kokoro/blob/1c7bdd971d2e32981f0f2b92d1fe5b0051e21457/kokoro/istftnet.py>).

use crate::error::Result;
use crate::kernels::ops::{adain_affine, Act, Prologue};
use crate::kernels::pass::Pass;
use crate::nn::layers::{Conv1d, DepthwiseConvTranspose1d, Linear};
use crate::nn::weights::{Vb, Weight};

pub(crate) const IN_EPS: f32 = 1e-5;
pub(crate) const RSQRT2: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// AdaIN1d: a style projection to per-channel `[γ | β]` applied over InstanceNorm statistics.
pub(crate) struct AdaIn {
    fc: Linear,
}

impl AdaIn {
    pub(crate) fn new(vb: &mut Vb, style: usize, c: usize) -> Result<Self> {
        Ok(Self {
            fc: Linear::new(&mut vb.pp("fc"), style, 2 * c, true)?,
        })
    }

    /// `(scale, shift)` for given statistics `(mean, rstd)` per channel.
    pub(crate) fn affine_from(&self, stats: &[(f32, f32)], s: &[f32]) -> (Vec<f32>, Vec<f32>) {
        adain_affine(stats, &self.fc.forward_vec(s))
    }

    /// Per-channel `(scale, shift)` such that `AdaIN(x) = scale·x + shift`.
    pub(crate) fn affine(
        &self,
        x: &[f32],
        t: usize,
        s: &[f32],
        pass: &mut Pass,
    ) -> (Vec<f32>, Vec<f32>) {
        let stats = pass.instance_stats(x, t, IN_EPS);
        adain_affine(&stats, &self.fc.forward_vec(s))
    }
}

/// StyleTTS2 `AdainResBlk1d`, optionally upsampling time ×2.
pub(crate) struct AdainResBlk1d {
    pub(crate) norm1: AdaIn,
    pub(crate) norm2: AdaIn,
    pub(crate) conv1: Conv1d,
    pub(crate) conv2: Conv1d,
    pub(crate) conv1x1: Option<Conv1d>,
    pub(crate) pool: Option<DepthwiseConvTranspose1d>,
    pub cin: usize,
}

impl AdainResBlk1d {
    pub(crate) fn new(
        vb: &mut Vb,
        cin: usize,
        cout: usize,
        style: usize,
        upsample: bool,
    ) -> Result<Self> {
        Ok(Self {
            norm1: AdaIn::new(&mut vb.pp("norm1"), style, cin)?,
            norm2: AdaIn::new(&mut vb.pp("norm2"), style, cout)?,
            conv1: Conv1d::new(&mut vb.pp("conv1"), cin, cout, 3, 1, 1, 1, true)?,
            conv2: Conv1d::new(&mut vb.pp("conv2"), cout, cout, 3, 1, 1, 1, true)?,
            conv1x1: if cin != cout {
                Some(Conv1d::new(
                    &mut vb.pp("conv1x1"),
                    cin,
                    cout,
                    1,
                    1,
                    0,
                    1,
                    false,
                )?)
            } else {
                None
            },
            pool: if upsample {
                Some(DepthwiseConvTranspose1d::new(
                    &mut vb.pp("pool"),
                    cin,
                    3,
                    2,
                    1,
                    1,
                )?)
            } else {
                None
            },
            cin,
        })
    }

    /// `x [cin, t]` → `([cout, t'], t')` with `t' = 2t` when upsampling.
    pub(crate) fn forward(
        &self,
        x: &[f32],
        t: usize,
        s: &[f32],
        pass: &mut Pass,
    ) -> (Vec<f32>, usize) {
        let (sc1, sh1) = self.norm1.affine(x, t, s, pass);
        let p1 = Prologue {
            scale: &sc1,
            shift: &sh1,
            act: Act::Leaky(0.2),
        };
        let (y1, t2) = match &self.pool {
            Some(pool) => {
                let mut a = x.to_vec();
                p1.apply_inplace(&mut a, t);
                let a = pool.forward(&a, t);
                let t2 = pool.out_len(t);
                (self.conv1.forward(&a, t2, None), t2)
            }
            None => (self.conv1.forward(x, t, Some(&p1)), t),
        };
        let (sc2, sh2) = self.norm2.affine(&y1, t2, s, pass);
        let p2 = Prologue {
            scale: &sc2,
            shift: &sh2,
            act: Act::Leaky(0.2),
        };
        let mut out = self.conv2.forward(&y1, t2, Some(&p2));
        drop(y1);
        let up: Vec<f32>;
        let sc_in: &[f32] = if self.pool.is_some() {
            up = x
                .chunks_exact(t)
                .flat_map(|row| row.iter().flat_map(|v| [*v, *v]))
                .collect();
            &up
        } else {
            x
        };
        match &self.conv1x1 {
            Some(c) => c.forward_into(sc_in, t2, None, &mut out, true),
            None => out.iter_mut().zip(sc_in).for_each(|(o, v)| *o += v),
        }
        out.iter_mut().for_each(|v| *v *= RSQRT2);
        (out, t2)
    }
}

/// HiFi-GAN ResBlock1 with AdaIN and Snake (`AdaINResBlock1`), in place.
pub(crate) struct AdaInResBlock1 {
    pub(crate) convs1: Vec<Conv1d>,
    pub(crate) convs2: Vec<Conv1d>,
    pub(crate) adain1: Vec<AdaIn>,
    pub(crate) adain2: Vec<AdaIn>,
    pub(crate) alpha1: Vec<Weight>,
    pub(crate) alpha2: Vec<Weight>,
}

impl AdaInResBlock1 {
    pub(crate) fn new(
        vb: &mut Vb,
        c: usize,
        k: usize,
        dil: &[usize],
        style: usize,
    ) -> Result<Self> {
        let mut b = Self {
            convs1: vec![],
            convs2: vec![],
            adain1: vec![],
            adain2: vec![],
            alpha1: vec![],
            alpha2: vec![],
        };
        for (j, &d) in dil.iter().enumerate() {
            b.convs1.push(Conv1d::new(
                &mut vb.pp(format!("convs1.{j}")),
                c,
                c,
                k,
                1,
                d * (k - 1) / 2,
                d,
                true,
            )?);
            b.convs2.push(Conv1d::new(
                &mut vb.pp(format!("convs2.{j}")),
                c,
                c,
                k,
                1,
                (k - 1) / 2,
                1,
                true,
            )?);
            b.adain1
                .push(AdaIn::new(&mut vb.pp(format!("adain1.{j}")), style, c)?);
            b.adain2
                .push(AdaIn::new(&mut vb.pp(format!("adain2.{j}")), style, c)?);
            b.alpha1.push(vb.get(&format!("alpha1.{j}"), &[1, c, 1])?);
            b.alpha2.push(vb.get(&format!("alpha2.{j}"), &[1, c, 1])?);
        }
        Ok(b)
    }

    /// `x [c, t]` updated in place; `scratch` is reused between calls. On cancellation `x`
    /// holds partial results.
    pub(crate) fn forward_inplace(
        &self,
        x: &mut [f32],
        t: usize,
        s: &[f32],
        scratch: &mut Vec<f32>,
        pass: &mut Pass,
    ) -> Result<()> {
        for j in 0..self.convs1.len() {
            pass.cancel.check()?;
            let (sc, sh) = self.adain1[j].affine(x, t, s, pass);
            let p = Prologue {
                scale: &sc,
                shift: &sh,
                act: Act::Snake(&self.alpha1[j]),
            };
            scratch.resize(x.len(), 0.0);
            self.convs1[j].forward_into_cancellable(x, t, Some(&p), scratch, false, pass.cancel);
            pass.cancel.check()?;
            let (sc, sh) = self.adain2[j].affine(scratch, t, s, pass);
            let p = Prologue {
                scale: &sc,
                shift: &sh,
                act: Act::Snake(&self.alpha2[j]),
            };
            self.convs2[j].forward_into_cancellable(scratch, t, Some(&p), x, true, pass.cancel);
        }
        pass.cancel.check()
    }
}
