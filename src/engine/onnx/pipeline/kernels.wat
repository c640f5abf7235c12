;; The small-image pipeline of the stepwise ascent (src/engine/onnx/pipeline/stepwise.ts), f32 with
;; 128-bit SIMD (f32x4) and bulk memory. Compiled to kernels-wasm.ts by `npm run build:kernels`.
;; Every pointer is a byte offset into the exported memory; a row is one h×w picture of n = h·w
;; floats (one channel), rows one after another; n is a multiple of 4.
(module
  (memory (export "memory") 1)

  ;; dst row r = src row r shifted by its whole-pixel shift: dst(y, x) = src(y + s·ty, x + s·tx),
  ;; `fill` where that falls off the picture. ids[r] (i32) = (ty + P)·(2P + 1) + tx + P; s = sign.
  (func (export "shiftRows") (param $src i32) (param $dst i32) (param $ids i32) (param $rows i32)
      (param $h i32) (param $w i32) (param $P i32) (param $sign i32) (param $fill f32)
    (local $r i32) (local $side i32) (local $id i32) (local $dy i32) (local $dx i32) (local $i i32)
    (local $si i32) (local $j0 i32) (local $j1 i32) (local $n4 i32) (local $s i32) (local $d i32) (local $k i32)
    (local.set $side (i32.add (i32.shl (local.get $P) (i32.const 1)) (i32.const 1)))
    (local.set $n4 (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (block $rdone (loop $rl
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $id (i32.load (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $dy (i32.mul (local.get $sign) (i32.sub (i32.div_s (local.get $id) (local.get $side)) (local.get $P))))
      (local.set $dx (i32.mul (local.get $sign) (i32.sub (i32.rem_s (local.get $id) (local.get $side)) (local.get $P))))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $n4))))
      (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $n4))))
      ;; the fill first, then the part of the picture that stays on it
      (if (f32.eq (local.get $fill) (f32.const 0))
        (then (memory.fill (local.get $d) (i32.const 0) (local.get $n4)))
        (else
          (local.set $k (i32.const 0))
          (block $fdone (loop $fl
            (br_if $fdone (i32.ge_s (local.get $k) (local.get $n4)))
            (v128.store (i32.add (local.get $d) (local.get $k)) (f32x4.splat (local.get $fill)))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $fl)))))
      (local.set $j0 (select (i32.sub (i32.const 0) (local.get $dx)) (i32.const 0) (i32.lt_s (local.get $dx) (i32.const 0))))
      (local.set $j1 (select (i32.sub (local.get $w) (local.get $dx)) (local.get $w) (i32.gt_s (local.get $dx) (i32.const 0))))
      (local.set $i (i32.const 0))
      (block $idone (loop $il
        (br_if $idone (i32.ge_s (local.get $i) (local.get $h)))
        (local.set $si (i32.add (local.get $i) (local.get $dy)))
        (if (i32.and (i32.and (i32.ge_s (local.get $si) (i32.const 0)) (i32.lt_s (local.get $si) (local.get $h))) (i32.gt_s (local.get $j1) (local.get $j0)))
          (then (memory.copy
            (i32.add (local.get $d) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $w)) (local.get $j0)) (i32.const 2)))
            (i32.add (local.get $s) (i32.shl (i32.add (i32.add (i32.mul (local.get $si) (local.get $w)) (local.get $j0)) (local.get $dx)) (i32.const 2)))
            (i32.shl (i32.sub (local.get $j1) (local.get $j0)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl)))
  )

  ;; d += the TV gradient of x, row by row: along W c_k = [x_k > x_{k+1}]·mW_k, along H
  ;; v_k = [x_k > x_{k+w}]·mH_k (the masks are 0 where the pair runs off the picture), and
  ;; d_k += wW2·(c_k − c_{k−1}) + wH2·(v_k − v_{k−w}) + K_k. C: scratch of 4 + n floats (C[-1] = 0
  ;; at C, c_0 at C + 16), V: scratch of w + n floats (w zeros first).
  (func (export "tvAdd") (param $x i32) (param $d i32) (param $rows i32) (param $h i32) (param $w i32)
      (param $C i32) (param $V i32) (param $mW i32) (param $mH i32) (param $K i32) (param $wW2 f32) (param $wH2 f32)
    (local $r i32) (local $k i32) (local $n4 i32) (local $w4 i32) (local $xp i32) (local $dp i32) (local $one v128)
    (local $c0 i32) (local $v0 i32)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $n4 (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (local.set $w4 (i32.shl (local.get $w) (i32.const 2)))
    (local.set $c0 (i32.add (local.get $C) (i32.const 16)))
    (local.set $v0 (i32.add (local.get $V) (local.get $w4)))
    (block $rdone (loop $rl
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $xp (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $n4))))
      (local.set $dp (i32.add (local.get $d) (i32.mul (local.get $r) (local.get $n4))))
      (local.set $k (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_s (local.get $k) (local.get $n4)))
        (v128.store (i32.add (local.get $c0) (local.get $k))
          (f32x4.mul (v128.and (f32x4.gt (v128.load (i32.add (local.get $xp) (local.get $k))) (v128.load offset=4 (i32.add (local.get $xp) (local.get $k)))) (local.get $one))
                     (v128.load (i32.add (local.get $mW) (local.get $k)))))
        (v128.store (i32.add (local.get $v0) (local.get $k))
          (f32x4.mul (v128.and (f32x4.gt (v128.load (i32.add (local.get $xp) (local.get $k))) (v128.load (i32.add (i32.add (local.get $xp) (local.get $k)) (local.get $w4)))) (local.get $one))
                     (v128.load (i32.add (local.get $mH) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $l1)))
      (local.set $k (i32.const 0))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_s (local.get $k) (local.get $n4)))
        (v128.store (i32.add (local.get $dp) (local.get $k))
          (f32x4.add
            (f32x4.add
              (f32x4.add (v128.load (i32.add (local.get $dp) (local.get $k)))
                (f32x4.mul (f32x4.splat (local.get $wW2)) (f32x4.sub (v128.load (i32.add (local.get $c0) (local.get $k))) (v128.load offset=12 (i32.add (local.get $C) (local.get $k))))))
              (f32x4.mul (f32x4.splat (local.get $wH2)) (f32x4.sub (v128.load (i32.add (local.get $v0) (local.get $k))) (v128.load (i32.add (local.get $V) (local.get $k))))))
            (v128.load (i32.add (local.get $K) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $l2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl)))
  )

  ;; Adam with unnormalised moments, then the clip, as the fused loop (ascent.ts) does it:
  ;; m ← m·b1 + g, v ← v·b2 + g², x ← max(min(x + (m / (√v + eps))·alpha_r, hi), lo).
  (func (export "adamClip") (param $x i32) (param $g i32) (param $m i32) (param $v i32) (param $alphas i32)
      (param $lo i32) (param $hi i32) (param $rows i32) (param $n i32) (param $b1 f32) (param $b2 f32) (param $eps f32)
    (local $r i32) (local $k i32) (local $n4 i32) (local $base i32) (local $a v128) (local $gg v128) (local $mm v128) (local $vv v128) (local $p i32)
    (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
    (block $rdone (loop $rl
      (br_if $rdone (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $base (i32.mul (local.get $r) (local.get $n4)))
      (local.set $a (f32x4.splat (f32.load (i32.add (local.get $alphas) (i32.shl (local.get $r) (i32.const 2))))))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kl
        (br_if $kdone (i32.ge_s (local.get $k) (local.get $n4)))
        (local.set $p (i32.add (local.get $base) (local.get $k)))
        (local.set $gg (v128.load (i32.add (local.get $g) (local.get $p))))
        (local.set $mm (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $p))) (f32x4.splat (local.get $b1))) (local.get $gg)))
        (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $p))) (f32x4.splat (local.get $b2))) (f32x4.mul (local.get $gg) (local.get $gg))))
        (v128.store (i32.add (local.get $m) (local.get $p)) (local.get $mm))
        (v128.store (i32.add (local.get $v) (local.get $p)) (local.get $vv))
        (v128.store (i32.add (local.get $x) (local.get $p))
          (f32x4.max
            (f32x4.min
              (f32x4.add (v128.load (i32.add (local.get $x) (local.get $p)))
                (f32x4.mul (f32x4.div (local.get $mm) (f32x4.add (f32x4.sqrt (local.get $vv)) (f32x4.splat (local.get $eps)))) (local.get $a)))
              (v128.load (i32.add (local.get $hi) (local.get $k))))
            (v128.load (i32.add (local.get $lo) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $kl)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl)))
  )
)
