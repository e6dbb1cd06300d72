//! The decoder and generator as a true stream: every convolution keeps the inputs its next
//! outputs still need (its left reach), every transposed convolution and the iSTFT keep their
//! overlap-add tails, so each input frame is computed once, whatever the windows. A push of new
//! decoder frames makes each layer compute exactly the outputs its inputs so far determine; the
//! layers near the input run ahead of those near the output by their right reach (the stream's
//! look-ahead, [`Pipeline::frames_needed`], derived from the kernels, strides and dilations).
//! The end of the chunk flushes every layer with its zero padding, as the whole pass does.
//!
//! InstanceNorm statistics are per layer and pooled over the frames seen so far
//! ([`crate::kernels::pass::Norms`]).

use rayon::prelude::*;

use crate::error::Result;
use crate::kernels::ops::{Act, Prologue};
use crate::kernels::pass::{Cancel, Norms};
use crate::nn::blocks::{AdaInResBlock1, AdainResBlk1d, IN_EPS, RSQRT2};
use crate::nn::decoder::Decoder;
use crate::nn::generator::Generator;
use crate::nn::layers::{Conv1d, ConvTranspose1d, DepthwiseConvTranspose1d};
use crate::nn::source;
use crate::nn::stft::{self, IstftStream};

/// `[c, n]` frames of a signal from its frame `start` on.
struct Buf {
    c: usize,
    start: usize,
    n: usize,
    data: Vec<f32>,
}

impl Buf {
    fn new(c: usize, start: usize) -> Self {
        Self {
            c,
            start,
            n: 0,
            data: Vec::new(),
        }
    }

    fn end(&self) -> usize {
        self.start + self.n
    }

    /// Appends `x [c, m]`.
    fn push(&mut self, x: &[f32], m: usize) {
        assert_eq!(x.len(), self.c * m);
        if m == 0 {
            return;
        }
        if self.n == 0 {
            self.data.clear();
            self.data.extend_from_slice(x);
            self.n = m;
            return;
        }
        let n2 = self.n + m;
        let mut d = Vec::with_capacity(self.c * n2);
        for ch in 0..self.c {
            d.extend_from_slice(&self.data[ch * self.n..(ch + 1) * self.n]);
            d.extend_from_slice(&x[ch * m..(ch + 1) * m]);
        }
        self.data = d;
        self.n = n2;
    }

    fn push_zeros(&mut self, m: usize) {
        self.push(&vec![0f32; self.c * m], m);
    }

    /// Frames `a..b` as `[c, b − a]`.
    fn get(&self, a: usize, b: usize) -> Vec<f32> {
        assert!(
            self.start <= a && a <= b && b <= self.end(),
            "frames {a}..{b}"
        );
        let (o, w) = (a - self.start, b - a);
        let mut v = Vec::with_capacity(self.c * w);
        for ch in 0..self.c {
            v.extend_from_slice(&self.data[ch * self.n + o..ch * self.n + o + w]);
        }
        v
    }

    /// Forgets the frames before `a`.
    fn drop_before(&mut self, a: usize) {
        let a = a.min(self.end());
        if a <= self.start {
            return;
        }
        let k = a - self.start;
        let n2 = self.n - k;
        if n2 == 0 {
            self.data.clear();
        } else {
            let mut d = Vec::with_capacity(self.c * n2);
            for ch in 0..self.c {
                d.extend_from_slice(&self.data[ch * self.n + k..(ch + 1) * self.n]);
            }
            self.data = d;
        }
        self.n = n2;
        self.start = a;
    }

    /// Frames `a..b`, forgetting everything before `b`.
    fn take(&mut self, a: usize, b: usize) -> Vec<f32> {
        let v = self.get(a, b);
        self.drop_before(b);
        v
    }
}

/// The state of a [`Conv1d`]: its padded input from the first position its next output reads.
struct SConv {
    buf: Buf,
    n_in: usize,
    produced: usize,
    flushed: bool,
}

impl SConv {
    fn new(c: &Conv1d) -> Self {
        let mut buf = Buf::new(c.cin, 0);
        buf.push_zeros(c.pad);
        Self {
            buf,
            n_in: 0,
            produced: 0,
            flushed: false,
        }
    }

    /// Outputs determined by the first `n` inputs (all outputs when `last`): the output `j`
    /// reads padded inputs `j·stride ..= j·stride + dil·(k−1)`.
    fn avail(c: &Conv1d, n: usize, last: bool) -> usize {
        if last {
            return c.out_len(n);
        }
        let span = c.dil * (c.k - 1) + 1;
        if n + c.pad < span {
            0
        } else {
            (n + c.pad - span) / c.stride + 1
        }
    }

    fn push(
        &mut self,
        c: &Conv1d,
        x: &[f32],
        m: usize,
        last: bool,
        cancel: Cancel,
    ) -> (Vec<f32>, usize) {
        self.buf.push(x, m);
        self.n_in += m;
        if last && !self.flushed {
            self.buf.push_zeros(c.pad);
            self.flushed = true;
        }
        let target = Self::avail(c, self.n_in, last);
        if target <= self.produced {
            return (Vec::new(), 0);
        }
        let n_out = target - self.produced;
        let span = c.dil * (c.k - 1) + 1;
        let (a, b) = (self.produced * c.stride, (target - 1) * c.stride + span);
        let xin = self.buf.get(a, b);
        let y = c.forward_valid(&xin, b - a, cancel);
        self.produced = target;
        self.buf.drop_before(target * c.stride);
        (y, n_out)
    }
}

/// A transposed convolution's shape.
#[derive(Clone, Copy)]
struct TShape {
    c: usize,
    k: usize,
    stride: usize,
    pad: usize,
    out_pad: usize,
}

impl TShape {
    fn dense(t: &ConvTranspose1d) -> Self {
        Self {
            c: t.cout,
            k: t.k,
            stride: t.stride,
            pad: t.pad,
            out_pad: t.out_pad,
        }
    }

    fn depthwise(t: &DepthwiseConvTranspose1d, c: usize) -> Self {
        let (k, stride, pad, out_pad) = t.shape();
        Self {
            c,
            k,
            stride,
            pad,
            out_pad,
        }
    }

    fn out_len(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        ((n - 1) * self.stride + self.k + self.out_pad).saturating_sub(2 * self.pad)
    }

    /// Outputs complete after `n` inputs: the next input adds from `n·stride − pad` on.
    fn avail(&self, n: usize, last: bool) -> usize {
        if last {
            self.out_len(n)
        } else {
            (n * self.stride).saturating_sub(self.pad)
        }
    }
}

/// The state of a transposed convolution: the overlap-add tail (positions `o + pad`).
struct SConvT {
    acc: Buf,
    n_in: usize,
    produced: usize,
}

impl SConvT {
    fn new(sh: &TShape) -> Self {
        Self {
            acc: Buf::new(sh.c, sh.pad),
            n_in: 0,
            produced: 0,
        }
    }

    /// `y [c·k, m]`: the new inputs' contributions → the outputs now complete.
    fn push(
        &mut self,
        sh: &TShape,
        y: &[f32],
        bias: &[f32],
        m: usize,
        last: bool,
    ) -> (Vec<f32>, usize) {
        let (c, k, s) = (sh.c, sh.k, sh.stride);
        assert_eq!(y.len(), c * k * m);
        let i0 = self.n_in;
        self.n_in += m;
        let target = sh.avail(self.n_in, last);
        let mut need = if self.n_in > 0 {
            (self.n_in - 1) * s + k
        } else {
            0
        };
        need = need.max(target + sh.pad);
        if self.acc.end() < need {
            self.acc.push_zeros(need - self.acc.end());
        }
        if m > 0 {
            let (start, n) = (self.acc.start, self.acc.n);
            self.acc
                .data
                .par_chunks_mut(n)
                .enumerate()
                .for_each(|(ch, row)| {
                    for kk in 0..k {
                        let yr = &y[(ch * k + kk) * m..(ch * k + kk + 1) * m];
                        for (i, v) in yr.iter().enumerate() {
                            let q = (i0 + i) * s + kk;
                            if q >= start {
                                row[q - start] += v;
                            }
                        }
                    }
                });
        }
        if target <= self.produced {
            return (Vec::new(), 0);
        }
        let n_out = target - self.produced;
        let mut out = self.acc.take(self.produced + sh.pad, target + sh.pad);
        out.par_chunks_mut(n_out)
            .zip(bias)
            .for_each(|(row, b)| row.iter_mut().for_each(|v| *v += b));
        self.produced = target;
        (out, n_out)
    }
}

/// `x [c, m]` through `scale·x + shift` and `act`, per channel.
fn transform(x: &mut [f32], m: usize, scale: &[f32], shift: &[f32], act: Act) {
    if m == 0 {
        return;
    }
    Prologue { scale, shift, act }.apply_inplace(x, m);
}

fn add_into(a: &mut [f32], b: &[f32]) {
    a.par_chunks_mut(1 << 14)
        .zip(b.par_chunks(1 << 14))
        .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(x, y)| *x += y));
}

/// One residual unit (one dilation) of an [`AdaInResBlock1`].
struct SUnit {
    slot: usize,
    c1: SConv,
    c2: SConv,
    res: Buf,
    produced: usize,
}

/// The state of an [`AdaInResBlock1`].
struct SResBlock1 {
    units: Vec<SUnit>,
}

impl SResBlock1 {
    fn new(b: &AdaInResBlock1, c: usize, slot: &mut usize) -> Self {
        let units = (0..b.convs1.len())
            .map(|j| {
                let u = SUnit {
                    slot: *slot,
                    c1: SConv::new(&b.convs1[j]),
                    c2: SConv::new(&b.convs2[j]),
                    res: Buf::new(c, 0),
                    produced: 0,
                };
                *slot += 2;
                u
            })
            .collect();
        Self { units }
    }

    fn avail(b: &AdaInResBlock1, mut n: usize, last: bool) -> usize {
        for j in 0..b.convs1.len() {
            n = SConv::avail(&b.convs2[j], SConv::avail(&b.convs1[j], n, last), last);
        }
        n
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        b: &AdaInResBlock1,
        mut x: Vec<f32>,
        mut m: usize,
        last: bool,
        s: &[f32],
        norms: &mut Norms,
        cancel: Cancel,
    ) -> Result<(Vec<f32>, usize)> {
        for (j, u) in self.units.iter_mut().enumerate() {
            cancel.check()?;
            u.res.push(&x, m);
            if m > 0 {
                let st = norms.stats(u.slot, &x, m, IN_EPS);
                let (sc, sh) = b.adain1[j].affine_from(&st, s);
                transform(&mut x, m, &sc, &sh, Act::Snake(&b.alpha1[j]));
            }
            let (mut y, m1) = u.c1.push(&b.convs1[j], &x, m, last, cancel);
            cancel.check()?;
            if m1 > 0 {
                let st = norms.stats(u.slot + 1, &y, m1, IN_EPS);
                let (sc, sh) = b.adain2[j].affine_from(&st, s);
                transform(&mut y, m1, &sc, &sh, Act::Snake(&b.alpha2[j]));
            }
            let (mut z, m2) = u.c2.push(&b.convs2[j], &y, m1, last, cancel);
            let r = u.res.take(u.produced, u.produced + m2);
            add_into(&mut z, &r);
            u.produced += m2;
            x = z;
            m = m2;
        }
        Ok((x, m))
    }
}

/// The state of an [`AdainResBlk1d`].
struct SResBlk {
    slot: usize,
    pool: Option<(TShape, SConvT)>,
    c1: SConv,
    c2: SConv,
    /// The shortcut's outputs not yet matched by the residual branch.
    short: Buf,
    produced: usize,
}

impl SResBlk {
    fn new(b: &AdainResBlk1d, slot: &mut usize) -> Self {
        let pool = b.pool.as_ref().map(|p| {
            let sh = TShape::depthwise(p, b.cin);
            (sh, SConvT::new(&sh))
        });
        let s = Self {
            slot: *slot,
            pool,
            c1: SConv::new(&b.conv1),
            c2: SConv::new(&b.conv2),
            short: Buf::new(b.conv2.cout, 0),
            produced: 0,
        };
        *slot += 2;
        s
    }

    fn avail(b: &AdainResBlk1d, n: usize, last: bool) -> usize {
        let n1 = match &b.pool {
            Some(p) => TShape::depthwise(p, b.cin).avail(n, last),
            None => n,
        };
        SConv::avail(&b.conv2, SConv::avail(&b.conv1, n1, last), last)
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        b: &AdainResBlk1d,
        x: &[f32],
        m: usize,
        last: bool,
        s: &[f32],
        norms: &mut Norms,
        cancel: Cancel,
    ) -> Result<(Vec<f32>, usize)> {
        cancel.check()?;
        // the shortcut: no reach, computed as the frames come
        let (xs, ms) = if b.pool.is_some() {
            let up: Vec<f32> = x
                .chunks_exact(m.max(1))
                .flat_map(|row| row.iter().flat_map(|v| [*v, *v]))
                .collect();
            (up, 2 * m)
        } else {
            (x.to_vec(), m)
        };
        let short = match &b.conv1x1 {
            Some(c) if ms > 0 => c.forward(&xs, ms, None),
            Some(_) => Vec::new(),
            None => xs,
        };
        self.short.push(&short, ms);
        let mut a = x.to_vec();
        if m > 0 {
            let st = norms.stats(self.slot, x, m, IN_EPS);
            let (sc, sh) = b.norm1.affine_from(&st, s);
            transform(&mut a, m, &sc, &sh, Act::Leaky(0.2));
        }
        let (a, ma) = match (&b.pool, &mut self.pool) {
            (Some(p), Some((sh, st))) => {
                let y = p.contributions(&a, m);
                st.push(sh, &y, p.bias(), m, last)
            }
            _ => (a, m),
        };
        let (mut y1, m1) = self.c1.push(&b.conv1, &a, ma, last, cancel);
        cancel.check()?;
        if m1 > 0 {
            let st = norms.stats(self.slot + 1, &y1, m1, IN_EPS);
            let (sc, sh) = b.norm2.affine_from(&st, s);
            transform(&mut y1, m1, &sc, &sh, Act::Leaky(0.2));
        }
        let (mut out, m2) = self.c2.push(&b.conv2, &y1, m1, last, cancel);
        let sc = self.short.take(self.produced, self.produced + m2);
        add_into(&mut out, &sc);
        out.par_chunks_mut(1 << 14)
            .for_each(|c| c.iter_mut().for_each(|v| *v *= RSQRT2));
        self.produced += m2;
        Ok((out, m2))
    }
}

/// One upsampling stage of the generator.
struct SStage {
    ups: (TShape, SConvT),
    /// Whether the stage's output starts with one reflected frame (the last stage), and
    /// whether that frame has been written.
    reflect: bool,
    reflected: bool,
    noise: SConv,
    noise_res: SResBlock1,
    /// Trunk and source frames not yet summed.
    trunk: Buf,
    src: Buf,
    summed: usize,
    branches: Vec<SResBlock1>,
    outs: Vec<Buf>,
    produced: usize,
}

/// How far the stream's layers reach: what a push of decoder frames makes final, from the
/// kernels, strides and dilations (no state).
#[derive(Clone, Copy)]
pub(crate) struct Reach<'a> {
    dec: &'a Decoder,
    gen: &'a Generator,
    /// Frames in the chunk.
    frames: usize,
}

impl<'a> Reach<'a> {
    pub(crate) fn new(dec: &'a Decoder, frames: usize) -> Self {
        Self {
            dec,
            gen: dec.generator(),
            frames,
        }
    }

    fn spec_total(&self) -> usize {
        self.frames * self.samples_per_frame() / self.gen.hop + 1
    }

    /// The frames of look-ahead a window needs beyond its end, away from the chunk's end (the
    /// largest over the alignments of its end).
    pub(crate) fn lookahead(dec: &'a Decoder) -> usize {
        let r = Reach::new(dec, 1 << 20);
        (64..64 + 8)
            .map(|b| r.frames_needed(b) - b)
            .max()
            .unwrap_or(0)
    }

    /// Source spectrum frames pushed once `fed` decoder frames are: as many as those frames'
    /// samples hold (all at the end).
    fn spec_target(&self, fed: usize) -> usize {
        if fed >= self.frames {
            self.spec_total()
        } else {
            (fed * self.gen.up_total * 2 / self.gen.hop).min(self.spec_total())
        }
    }

    /// Samples out once the first `fed` decoder frames have been pushed: each layer's outputs
    /// from its inputs, layer by layer through the receptive fields.
    pub(crate) fn samples_after(&self, fed: usize) -> usize {
        let (dec, gen) = (self.dec, self.gen);
        let last = fed >= self.frames;
        let mut n = SResBlk::avail(&dec.encode, fed, last);
        for b in &dec.decode {
            n = SResBlk::avail(b, n, last);
        }
        let spec = self.spec_target(fed);
        let nk = gen.n_kernels;
        for i in 0..gen.ups.len() {
            let mut y = TShape::dense(&gen.ups[i]).avail(n, last);
            if i + 1 == gen.ups.len() {
                y = if last || y >= 2 { y + 1 } else { 0 };
            }
            let src = SResBlock1::avail(
                &gen.noise_res[i],
                SConv::avail(&gen.noise_convs[i], spec, last),
                last,
            );
            let joined = y.min(src);
            n = (0..nk)
                .map(|j| SResBlock1::avail(&gen.resblocks[i * nk + j], joined, last))
                .min()
                .unwrap_or(joined);
        }
        let p = SConv::avail(&gen.conv_post, n, last);
        IstftStream::avail(gen.n_fft, gen.hop, p, last).min(self.frames * self.samples_per_frame())
    }

    fn samples_per_frame(&self) -> usize {
        self.gen.up_total * 2
    }

    /// The fewest decoder frames whose push makes the first `end` frames' samples final.
    pub(crate) fn frames_needed(&self, end: usize) -> usize {
        let want = end.min(self.frames) * self.samples_per_frame();
        (end.min(self.frames)..=self.frames)
            .find(|&f| self.samples_after(f) >= want)
            .unwrap_or(self.frames)
    }
}

/// Everything between the decoder's input frames and the samples.
pub(crate) struct Pipeline<'a> {
    reach: Reach<'a>,
    dec: &'a Decoder,
    gen: &'a Generator,
    /// The whole chunk's decoder inputs: `asr [d, L]`, `r [r, L]`, `f0d, nd [L]`.
    asr: &'a [f32],
    r: Vec<f32>,
    f0d: Vec<f32>,
    nd: Vec<f32>,
    /// The whole chunk's raw F0 `[2L]`, for the harmonic source.
    f0: &'a [f32],
    s: &'a [f32],
    noise: Option<u64>,
    frames: usize,
    /// Decoder frames pushed so far.
    fed: usize,
    encode: SResBlk,
    decode: Vec<SResBlk>,
    /// Frames out of each decoder block so far.
    dec_out: Vec<usize>,
    /// Source spectrum frames pushed so far.
    spec_fed: usize,
    stages: Vec<SStage>,
    post: SConv,
    istft: IstftStream,
    norms: Norms,
}

impl<'a> Pipeline<'a> {
    /// A stream over a chunk of `frames` frames: `asr [d, frames]`, raw `f0, n [2·frames]`,
    /// decoder style `s`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        dec: &'a Decoder,
        asr: &'a [f32],
        f0: &'a [f32],
        n: &'a [f32],
        s: &'a [f32],
        frames: usize,
        noise: Option<u64>,
        norms: Norms,
    ) -> Self {
        let gen = dec.generator();
        let l = frames;
        // The decoder's side inputs have no reach worth streaming (1×1 and 3-tap on one
        // channel): the whole chunk's, exactly as the whole pass computes them.
        let f0d = dec.f0_conv.forward(f0, 2 * l, None);
        let nd = dec.n_conv.forward(n, 2 * l, None);
        let r = dec.asr_res.forward(asr, l, None);
        let mut slot = 0;
        let encode = SResBlk::new(&dec.encode, &mut slot);
        let decode: Vec<SResBlk> = dec
            .decode
            .iter()
            .map(|b| SResBlk::new(b, &mut slot))
            .collect();
        let nk = gen.n_kernels;
        let stages = (0..gen.ups.len())
            .map(|i| {
                let sh = TShape::dense(&gen.ups[i]);
                let c = gen.ups[i].cout;
                let noise_res = SResBlock1::new(&gen.noise_res[i], c, &mut slot);
                let branches: Vec<SResBlock1> = (0..nk)
                    .map(|j| SResBlock1::new(&gen.resblocks[i * nk + j], c, &mut slot))
                    .collect();
                SStage {
                    ups: (sh, SConvT::new(&sh)),
                    reflect: i + 1 == gen.ups.len(),
                    reflected: false,
                    noise: SConv::new(&gen.noise_convs[i]),
                    noise_res,
                    trunk: Buf::new(c, 0),
                    src: Buf::new(c, 0),
                    summed: 0,
                    outs: (0..nk).map(|_| Buf::new(c, 0)).collect(),
                    branches,
                    produced: 0,
                }
            })
            .collect();
        let reach = Reach::new(dec, frames);
        Self {
            reach,
            dec,
            gen,
            asr,
            r,
            f0d,
            nd,
            f0,
            s,
            noise,
            frames,
            fed: 0,
            encode,
            decode,
            dec_out: vec![0; dec.decode.len() + 1],
            spec_fed: 0,
            stages,
            post: SConv::new(&gen.conv_post),
            istft: IstftStream::new(gen.n_fft, gen.hop),
            norms,
        }
    }

    /// Decoder frames pushed so far.
    pub(crate) fn fed(&self) -> usize {
        self.fed
    }

    pub(crate) fn reach(&self) -> Reach<'a> {
        self.reach
    }

    /// Pushes the decoder frames `fed..to` through every layer; returns the samples that
    /// became final.
    pub(crate) fn push(&mut self, to: usize, cancel: Cancel) -> Result<Vec<f32>> {
        let to = to.min(self.frames);
        let (a, b) = (self.fed, to);
        let last = b >= self.frames;
        let l = self.frames;
        let m = b - a;
        let d = self.asr.len() / l;
        // encode: [asr | f0d | nd]
        let mut x = Vec::with_capacity((d + 2) * m);
        for c in 0..d {
            x.extend_from_slice(&self.asr[c * l + a..c * l + b]);
        }
        x.extend_from_slice(&self.f0d[a..b]);
        x.extend_from_slice(&self.nd[a..b]);
        let (mut x, mut t) = self.encode.push(
            &self.dec.encode,
            &x,
            m,
            last,
            self.s,
            &mut self.norms,
            cancel,
        )?;
        let rc = self.r.len() / l;
        for (i, blk) in self.decode.iter_mut().enumerate() {
            // [x | r | f0d | nd] over the block's new frames
            let (p0, p1) = (self.dec_out[i], self.dec_out[i] + t);
            let mut cat = Vec::with_capacity((x.len() / t.max(1) + rc + 2) * t);
            cat.extend_from_slice(&x);
            for c in 0..rc {
                cat.extend_from_slice(&self.r[c * l + p0..c * l + p1]);
            }
            cat.extend_from_slice(&self.f0d[p0..p1]);
            cat.extend_from_slice(&self.nd[p0..p1]);
            self.dec_out[i] = p1;
            let (y, t2) = blk.push(
                &self.dec.decode[i],
                &cat,
                t,
                last,
                self.s,
                &mut self.norms,
                cancel,
            )?;
            x = y;
            t = t2;
        }
        // the harmonic source's spectrum for the new spectrum frames
        let s0 = self.spec_fed;
        let s1 = self.reach.spec_target(b);
        let spec = self.source_spec(s0..s1);
        self.spec_fed = s1;
        let gen = self.gen;
        for (i, st) in self.stages.iter_mut().enumerate() {
            cancel.check()?;
            // trunk: LeakyReLU(0.1), the upsampling, and for the last stage its reflected frame
            crate::kernels::ops::leaky_relu_inplace(&mut x, 0.1);
            let up = &gen.ups[i];
            let contrib = up.contributions(&x, t);
            let (sh, stt) = &mut st.ups;
            let (mut y, mut my) = stt.push(sh, &contrib, up.bias(), t, last);
            if st.reflect && my > 0 && !st.reflected {
                assert!(my >= 2, "the reflected frame needs two frames");
                let c = sh.c;
                let mut z = Vec::with_capacity(c * (my + 1));
                for ch in 0..c {
                    z.push(y[ch * my + 1]);
                    z.extend_from_slice(&y[ch * my..(ch + 1) * my]);
                }
                y = z;
                my += 1;
                st.reflected = true;
            }
            st.trunk.push(&y, my);
            // source: its convolution and residual block
            let (sx, sm) = st
                .noise
                .push(&gen.noise_convs[i], &spec, s1 - s0, last, cancel);
            let (sx, sm) = st.noise_res.push(
                &gen.noise_res[i],
                sx,
                sm,
                last,
                self.s,
                &mut self.norms,
                cancel,
            )?;
            st.src.push(&sx, sm);
            let upto = st.trunk.end().min(st.src.end());
            let ms = upto - st.summed;
            let mut sum = st.trunk.take(st.summed, upto);
            add_into(&mut sum, &st.src.take(st.summed, upto));
            st.summed = upto;
            // the mean of the parallel resblocks
            let nk = gen.n_kernels;
            for (j, (br, out)) in st.branches.iter_mut().zip(&mut st.outs).enumerate() {
                let (o, mo) = br.push(
                    &gen.resblocks[i * nk + j],
                    sum.clone(),
                    ms,
                    last,
                    self.s,
                    &mut self.norms,
                    cancel,
                )?;
                out.push(&o, mo);
            }
            let upto = st.outs.iter().map(Buf::end).min().unwrap_or(st.produced);
            let mo = upto - st.produced;
            let mut acc = st.outs[0].take(st.produced, upto);
            for out in &mut st.outs[1..] {
                add_into(&mut acc, &out.take(st.produced, upto));
            }
            let inv = nk as f32;
            acc.par_chunks_mut(1 << 14)
                .for_each(|c| c.iter_mut().for_each(|v| *v /= inv));
            st.produced = upto;
            x = acc;
            t = mo;
        }
        cancel.check()?;
        crate::kernels::ops::leaky_relu_inplace(&mut x, 0.01);
        let (y, my) = self.post.push(&gen.conv_post, &x, t, last, cancel);
        let audio = self.istft.push(&y, my, last);
        self.fed = b;
        Ok(audio)
    }

    /// Spectrum frames `range` of the harmonic source (magnitudes then phases, `[22, n]`).
    fn source_spec(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        let gen = self.gen;
        if range.is_empty() {
            return Vec::new();
        }
        let up = gen.up_total;
        let n = (self.frames * 2 * up) as isize;
        // the samples the frames read, reflections included
        let (pad, hop) = ((gen.n_fft / 2) as isize, gen.hop as isize);
        let first = range.start as isize * hop - pad;
        let last = (range.end - 1) as isize * hop + pad - 1;
        let mut lo = first.max(0);
        let mut hi = last.min(n - 1);
        if first < 0 {
            hi = hi.max(-first);
        }
        if last >= n {
            lo = lo.min(2 * (n - 1) - last);
        }
        let (lo, hi) = (lo.max(0) as usize, (hi + 1).min(n) as usize);
        let (r0, r1) = (lo / up, hi.div_ceil(up));
        let har = source::harmonic_source(
            self.f0,
            r0..r1,
            up,
            crate::config::SAMPLE_RATE as f32,
            &gen.l_w,
            gen.l_b,
            self.noise,
        );
        stft::stft_range(&har, r0 * up, n as usize, range, gen.n_fft, gen.hop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::weights::{RandomSource, Vb};

    fn rnd(n: usize, seed: u64) -> Vec<f32> {
        (0..n)
            .map(|i| crate::kernels::noise::uniform_pm1(seed, i as u64))
            .collect()
    }

    /// Columns `a..b` of `x [c, t]`.
    fn cols(x: &[f32], t: usize, a: usize, b: usize) -> Vec<f32> {
        x.chunks_exact(t)
            .flat_map(|row| row[a..b].iter().copied())
            .collect()
    }

    /// Appends `y [c, m]` to `acc [c, n]`.
    fn append(acc: &mut [Vec<f32>], y: &[f32], m: usize) {
        for (row, part) in acc.iter_mut().zip(y.chunks_exact(m.max(1))) {
            row.extend_from_slice(part);
        }
    }

    fn close(got: &[Vec<f32>], want: &[f32], tol: f32, what: &str) {
        let got: Vec<f32> = got.concat();
        assert_eq!(got.len(), want.len(), "{what}: length");
        let scale = want.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol * scale,
                "{what}: value {i}: {g} vs {w}"
            );
        }
    }

    /// Piece sizes summing to `t`, some empty, some single frames.
    fn pieces(t: usize, seed: u64) -> Vec<usize> {
        let mut out = vec![0];
        let mut left = t;
        let mut i = 0u64;
        while left > 0 {
            let r = (crate::kernels::noise::uniform_pm1(seed, i).abs() * 40.0) as usize;
            let m = [0, 1, 2, r, r / 3][i as usize % 5].min(left);
            out.push(m);
            left -= m;
            i += 1;
        }
        out.push(0);
        out
    }

    #[test]
    fn a_convolution_in_pieces_is_the_whole_convolution() {
        let mut src = RandomSource::new(3);
        let mut vb = Vb::new(&mut src);
        // (cin, cout, k, stride, pad, dil): the direct path, the DFT and Winograd paths, the
        // noise convolution's stride, the decoder's one-channel stride 2, pointwise
        for (n, &(cin, cout, k, s, p, d)) in [
            (3, 4, 3, 1, 1, 1),
            (64, 64, 7, 1, 9, 3),
            (128, 128, 11, 1, 25, 5),
            (128, 128, 3, 1, 1, 1),
            (64, 64, 3, 1, 3, 3),
            (22, 16, 12, 6, 3, 1),
            (1, 1, 3, 2, 1, 1),
            (8, 4, 1, 1, 0, 1),
        ]
        .iter()
        .enumerate()
        {
            let c = Conv1d::new(&mut vb.pp(format!("c{n}")), cin, cout, k, s, p, d, true).unwrap();
            for t in [1usize, 7, 300, 1500] {
                if c.out_len(t) == 0 {
                    continue;
                }
                let x = rnd(cin * t, n as u64 + t as u64);
                let want = c.forward(&x, t, None);
                let mut st = SConv::new(&c);
                let mut got = vec![Vec::new(); cout];
                let ps = pieces(t, t as u64 * 7 + n as u64);
                let mut at = 0;
                for (i, &m) in ps.iter().enumerate() {
                    let last = i + 1 == ps.len();
                    let (y, my) = st.push(&c, &cols(&x, t, at, at + m), m, last, Cancel::default());
                    assert_eq!(my, SConv::avail(&c, at + m, last) - st.produced + my);
                    append(&mut got, &y, my);
                    at += m;
                }
                close(&got, &want, 2e-5, &format!("conv {n}, t {t}"));
            }
        }
    }

    #[test]
    fn a_transposed_convolution_in_pieces_is_the_whole_one() {
        let mut src = RandomSource::new(4);
        let mut vb = Vb::new(&mut src);
        for (n, &(cin, cout, k, u)) in [(16, 8, 20, 10), (8, 4, 12, 6), (3, 2, 4, 2)]
            .iter()
            .enumerate()
        {
            let c =
                ConvTranspose1d::new(&mut vb.pp(format!("t{n}")), cin, cout, k, u, (k - u) / 2, 0)
                    .unwrap();
            let sh = TShape::dense(&c);
            for t in [1usize, 5, 200] {
                let x = rnd(cin * t, 9 + t as u64);
                let want = c.forward(&x, t, 0);
                let mut st = SConvT::new(&sh);
                let mut got = vec![Vec::new(); cout];
                let ps = pieces(t, 3 + t as u64);
                let mut at = 0;
                for (i, &m) in ps.iter().enumerate() {
                    let last = i + 1 == ps.len();
                    let y = c.contributions(&cols(&x, t, at, at + m), m);
                    let (o, mo) = st.push(&sh, &y, c.bias(), m, last);
                    append(&mut got, &o, mo);
                    at += m;
                }
                close(&got, &want, 1e-5, &format!("transposed {n}, t {t}"));
            }
        }
        // the decoder's depthwise ×2 pool (output padding 1)
        let c = 6;
        let p = DepthwiseConvTranspose1d::new(&mut vb.pp("pool"), c, 3, 2, 1, 1).unwrap();
        let sh = TShape::depthwise(&p, c);
        for t in [1usize, 4, 50] {
            let x = rnd(c * t, 77 + t as u64);
            let want = p.forward(&x, t);
            let mut st = SConvT::new(&sh);
            let mut got = vec![Vec::new(); c];
            let ps = pieces(t, t as u64);
            let mut at = 0;
            for (i, &m) in ps.iter().enumerate() {
                let last = i + 1 == ps.len();
                let y = p.contributions(&cols(&x, t, at, at + m), m);
                let (o, mo) = st.push(&sh, &y, p.bias(), m, last);
                append(&mut got, &o, mo);
                at += m;
            }
            close(&got, &want, 1e-6, &format!("pool, t {t}"));
        }
    }

    #[test]
    fn the_istft_in_pieces_is_the_whole_istft() {
        for frames in [1usize, 2, 5, 121, 601] {
            let y: Vec<f32> = rnd(22 * frames, frames as u64);
            let want = stft::istft_from_post(&y, frames, 20, 5);
            let mut st = IstftStream::new(20, 5);
            let mut got = Vec::new();
            let ps = pieces(frames, 5 * frames as u64);
            let mut at = 0;
            for (i, &m) in ps.iter().enumerate() {
                let last = i + 1 == ps.len();
                got.push(st.push(&cols(&y, frames, at, at + m), m, last));
                at += m;
            }
            let got: Vec<f32> = got.concat();
            assert_eq!(got, want, "{frames} frames");
        }
    }

    #[test]
    fn spectrum_frames_of_a_range_are_those_of_the_whole() {
        let n = 3000;
        let x = rnd(n, 12);
        let (whole, frames) = stft::stft_mag_phase(&x, 20, 5);
        for r in [0usize..1, 0..7, 3..40, 500..601, 598..601, 600..601] {
            let lo = (r.start * 5).saturating_sub(12);
            let hi = ((r.end - 1) * 5 + 12).min(n);
            let lo = if r.end == frames { lo.min(n - 24) } else { lo };
            let part = stft::stft_range(&x[lo..hi], lo, n, r.clone(), 20, 5);
            assert_eq!(part, cols(&whole, frames, r.start, r.end), "{r:?}");
        }
    }
}
