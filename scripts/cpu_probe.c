// CPU probe behind the statements on this CPU in README.md's Performance
// section (not part of the library or CI; needs an x86-64 CPU with AVX-512F):
//
//   gcc -O3 scripts/cpu_probe.c -o /tmp/cpu_probe -lm && /tmp/cpu_probe
//
// 1. FMA throughput: 12 independent chains of 512-bit FMAs, then of 256-bit
//    ones. Equal lanes per second means one 512-bit FMA unit (the machine of
//    the README: 55.6 vs 56.8 G lanes/s).
// 2. Adam's update over the digits MLP's 4864 f32 parameters: sqrt and
//    division (as stackgrad's loop), the same with AVX-512 rsqrt14/rcp14 and
//    one Newton step each, and the exact loop in 256-bit vectors; then the
//    loop without its square root and division (the memory floor) and with
//    the square root but the division as rcp14, a Newton step and a
//    correction (as close to exact as that gets).
// 3. Whether the divider overlaps with FMAs: 12 independent FMA chains per
//    iteration, one independent square root and/or division, each alone and
//    together (time of the sum vs the larger of the parts).
// 4. A fused optimizer: the digits net's weight gradient dW = Xᵀ D (64 x 64,
//    depth 32, 4 x 64 tiles) followed by Adam on it, against the same with
//    each tile's Adam interleaved into the next tile's FMAs.
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx512f,fma"))) static void fma_throughput(void) {
  long n = 200000000;
  __m512 a[12];
  __m256 b[12];
  __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
  __m256 xs = _mm256_set1_ps(1.0000001f), ys = _mm256_set1_ps(0.9999999f);
  for (int i = 0; i < 12; i++) {
    a[i] = _mm512_set1_ps(i);
    b[i] = _mm256_set1_ps(i);
  }
  double t0 = now();
  for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; j++) a[j] = _mm512_fmadd_ps(a[j], x, y);
  }
  double t1 = now();
  for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; j++) b[j] = _mm256_fmadd_ps(b[j], xs, ys);
  }
  double t2 = now();
  float s = 0, tmp[16];
  for (int j = 0; j < 12; j++) {
    _mm512_storeu_ps(tmp, a[j]);
    s += tmp[0];
    _mm256_storeu_ps(tmp, b[j]);
    s += tmp[1];
  }
  printf("FMA zmm: %.1f G lanes/s, ymm: %.1f G lanes/s (checksum %g)\n",
         n * 12.0 * 16 / (t1 - t0) / 1e9, n * 12.0 * 8 / (t2 - t1) / 1e9, s);
}

#define N 4864
__attribute__((aligned(64))) float p[N], m[N], v[N], g[N];
__attribute__((target("avx512f,fma"))) static void exact(float b1, float b2, float step, float k, float eps){
  for(int i=0;i<N;i+=16){
    __m512 G=_mm512_load_ps(g+i), M=_mm512_load_ps(m+i), V=_mm512_load_ps(v+i), P=_mm512_load_ps(p+i);
    M=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b1),M),_mm512_mul_ps(_mm512_set1_ps(1-b1),G));
    V=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b2),V),_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(1-b2),G),G));
    __m512 d=_mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(V),_mm512_set1_ps(k)),_mm512_set1_ps(eps));
    P=_mm512_sub_ps(P,_mm512_div_ps(_mm512_mul_ps(_mm512_set1_ps(step),M),d));
    _mm512_store_ps(m+i,M);_mm512_store_ps(v+i,V);_mm512_store_ps(p+i,P);
  }
}
__attribute__((target("avx512f,fma"))) static void approx(float b1, float b2, float step, float k, float eps){
  for(int i=0;i<N;i+=16){
    __m512 G=_mm512_load_ps(g+i), M=_mm512_load_ps(m+i), V=_mm512_load_ps(v+i), P=_mm512_load_ps(p+i);
    M=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b1),M),_mm512_mul_ps(_mm512_set1_ps(1-b1),G));
    V=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b2),V),_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(1-b2),G),G));
    __m512 r=_mm512_rsqrt14_ps(V);
    r=_mm512_mul_ps(r,_mm512_fnmadd_ps(_mm512_mul_ps(_mm512_mul_ps(V,r),r),_mm512_set1_ps(0.5f),_mm512_set1_ps(1.5f)));
    __m512 s=_mm512_mul_ps(V,r);
    __m512 d=_mm512_fmadd_ps(s,_mm512_set1_ps(k),_mm512_set1_ps(eps));
    __m512 q=_mm512_rcp14_ps(d);
    q=_mm512_mul_ps(q,_mm512_fnmadd_ps(d,q,_mm512_set1_ps(2.0f)));
    P=_mm512_fnmadd_ps(_mm512_mul_ps(_mm512_set1_ps(step),M),q,P);
    _mm512_store_ps(m+i,M);_mm512_store_ps(v+i,V);_mm512_store_ps(p+i,P);
  }
}
__attribute__((target("avx512f,fma"))) static void nodiv(float b1, float b2, float step, float k, float eps){
  for(int i=0;i<N;i+=16){
    __m512 G=_mm512_load_ps(g+i), M=_mm512_load_ps(m+i), V=_mm512_load_ps(v+i), P=_mm512_load_ps(p+i);
    M=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b1),M),_mm512_mul_ps(_mm512_set1_ps(1-b1),G));
    V=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b2),V),_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(1-b2),G),G));
    __m512 d=_mm512_add_ps(_mm512_mul_ps(V,_mm512_set1_ps(k)),_mm512_set1_ps(eps));
    P=_mm512_sub_ps(P,_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(step),M),d));
    _mm512_store_ps(m+i,M);_mm512_store_ps(v+i,V);_mm512_store_ps(p+i,P);
  }
}
__attribute__((target("avx512f,fma"))) static void sqrt_newton(float b1, float b2, float step, float k, float eps){
  for(int i=0;i<N;i+=16){
    __m512 G=_mm512_load_ps(g+i), M=_mm512_load_ps(m+i), V=_mm512_load_ps(v+i), P=_mm512_load_ps(p+i);
    M=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b1),M),_mm512_mul_ps(_mm512_set1_ps(1-b1),G));
    V=_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(b2),V),_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(1-b2),G),G));
    __m512 d=_mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(V),_mm512_set1_ps(k)),_mm512_set1_ps(eps));
    __m512 y=_mm512_rcp14_ps(d);
    y=_mm512_fmadd_ps(y,_mm512_fnmadd_ps(d,y,_mm512_set1_ps(1.0f)),y);
    __m512 n=_mm512_mul_ps(_mm512_set1_ps(step),M), q=_mm512_mul_ps(n,y);
    q=_mm512_fmadd_ps(_mm512_fnmadd_ps(q,d,n),y,q);
    P=_mm512_sub_ps(P,q);
    _mm512_store_ps(m+i,M);_mm512_store_ps(v+i,V);_mm512_store_ps(p+i,P);
  }
}
__attribute__((target("avx2,fma"))) static void exact256(float b1, float b2, float step, float k, float eps){
  for(int i=0;i<N;i+=8){
    __m256 G=_mm256_load_ps(g+i), M=_mm256_load_ps(m+i), V=_mm256_load_ps(v+i), P=_mm256_load_ps(p+i);
    M=_mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(b1),M),_mm256_mul_ps(_mm256_set1_ps(1-b1),G));
    V=_mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(b2),V),_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(1-b2),G),G));
    __m256 d=_mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(V),_mm256_set1_ps(k)),_mm256_set1_ps(eps));
    P=_mm256_sub_ps(P,_mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(step),M),d));
    _mm256_store_ps(m+i,M);_mm256_store_ps(v+i,V);_mm256_store_ps(p+i,P);
  }
}
// 3. Divider and FMA overlap.
#define OVERLAP(NAME, BODY)                                                          \
  __attribute__((target("avx512f,fma"), noinline)) static float NAME(long n) {      \
    __m512 a[12], x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);    \
    __m512 s0 = _mm512_set1_ps(2.0f), s1 = _mm512_set1_ps(3.0f), r = _mm512_setzero_ps(); \
    (void)s0, (void)s1, (void)y;                                                           \
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(i);                            \
    for (long it = 0; it < n; it++) { BODY }                                          \
    float t[16];                                                                      \
    for (int i = 0; i < 12; i++) r = _mm512_add_ps(r, a[i]);                          \
    _mm512_storeu_ps(t, r);                                                           \
    return t[0];                                                                      \
  }
#define FMAS _Pragma("GCC unroll 12") for (int j = 0; j < 12; j++) a[j] = _mm512_fmadd_ps(a[j], x, y);
#define SQRT r = _mm512_add_ps(r, _mm512_sqrt_ps(s0)); s0 = _mm512_add_ps(s0, x);
#define DIV r = _mm512_add_ps(r, _mm512_div_ps(s1, s0)); s0 = _mm512_add_ps(s0, x);
#define SQRT_DIV r = _mm512_add_ps(r, _mm512_div_ps(s1, _mm512_sqrt_ps(s0))); s0 = _mm512_add_ps(s0, x);
OVERLAP(ov_fma, FMAS)
OVERLAP(ov_sqrt, SQRT)
OVERLAP(ov_div, DIV)
OVERLAP(ov_sqrt_div, SQRT_DIV)
OVERLAP(ov_fma_sqrt_div, FMAS SQRT_DIV)

static void divider_overlap(void) {
  long n = 50000000;
  float c = 0;
  struct { const char *name; float (*f)(long); } t[] = {
      {"12 FMA", ov_fma}, {"sqrt", ov_sqrt}, {"div", ov_div},
      {"sqrt + div", ov_sqrt_div}, {"12 FMA + sqrt + div", ov_fma_sqrt_div}};
  for (int k = 0; k < 5; k++) {
    double t0 = now();
    c += t[k].f(n);
    double t1 = now();
    printf("  %-20s %.2f ns per iteration\n", t[k].name, (t1 - t0) / n * 1e9);
  }
  printf("  (checksum %g)\n", c);
}

// 4. The weight gradient of the digits net's first layer and Adam on it.
#define GB 32
#define GI 64
__attribute__((aligned(64))) float gx[GB][GI], gd[GB][GI], gw[GI][GI], gp[GI][GI], gm[GI][GI], gv[GI][GI], gt[4][GI];
__attribute__((target("avx512f,fma"))) static inline void adam16(__m512 G, float *p, float *m, float *v) {
  __m512 M = _mm512_load_ps(m), V = _mm512_load_ps(v), P = _mm512_load_ps(p);
  M = _mm512_fmadd_ps(_mm512_set1_ps(0.9f), M, _mm512_mul_ps(_mm512_set1_ps(0.1f), G));
  V = _mm512_fmadd_ps(_mm512_set1_ps(0.999f), V, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.001f), G), G));
  __m512 d = _mm512_add_ps(_mm512_sqrt_ps(V), _mm512_set1_ps(1e-8f));
  P = _mm512_sub_ps(P, _mm512_div_ps(_mm512_mul_ps(_mm512_set1_ps(1e-3f), M), d));
  _mm512_store_ps(m, M); _mm512_store_ps(v, V); _mm512_store_ps(p, P);
}
#define GTILE_K(kk)                                                                       \
  {                                                                                       \
    __m512 d0 = _mm512_load_ps(&gd[kk][0]), d1 = _mm512_load_ps(&gd[kk][16]);             \
    __m512 d2 = _mm512_load_ps(&gd[kk][32]), d3 = _mm512_load_ps(&gd[kk][48]);            \
    for (int r = 0; r < 4; r++) {                                                         \
      __m512 xr = _mm512_set1_ps(gx[kk][i + r]);                                          \
      acc[r][0] = _mm512_fmadd_ps(xr, d0, acc[r][0]); acc[r][1] = _mm512_fmadd_ps(xr, d1, acc[r][1]); \
      acc[r][2] = _mm512_fmadd_ps(xr, d2, acc[r][2]); acc[r][3] = _mm512_fmadd_ps(xr, d3, acc[r][3]); \
    }                                                                                     \
  }
// Tile i's FMAs with one Adam vector of tile i - 4 (kept in gt) every two
// steps of k; the gradient itself is never stored.
__attribute__((target("avx512f,fma"), noinline)) static void interleaved(void) {
  for (int i = 0; i < GI; i += 4) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int q = 0; q < 16; q++) {
      GTILE_K(2 * q) GTILE_K(2 * q + 1)
      if (i > 0)
        adam16(_mm512_load_ps(&gt[q >> 2][16 * (q & 3)]), &gp[i - 4 + (q >> 2)][16 * (q & 3)],
               &gm[i - 4 + (q >> 2)][16 * (q & 3)], &gv[i - 4 + (q >> 2)][16 * (q & 3)]);
    }
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) _mm512_store_ps(&gt[r][16 * c], acc[r][c]);
  }
  for (int q = 0; q < 16; q++)
    adam16(_mm512_load_ps(&gt[q >> 2][16 * (q & 3)]), &gp[GI - 4 + (q >> 2)][16 * (q & 3)],
           &gm[GI - 4 + (q >> 2)][16 * (q & 3)], &gv[GI - 4 + (q >> 2)][16 * (q & 3)]);
}

// The gradient alone, in a plain loop over k (the faster form here).
__attribute__((target("avx512f,fma"), noinline)) static void gradient_only(void) {
  for (int i = 0; i < GI; i += 4) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    for (int kk = 0; kk < GB; kk++) GTILE_K(kk)
    for (int r = 0; r < 4; r++)
      for (int c = 0; c < 4; c++) _mm512_store_ps(&gw[i + r][16 * c], acc[r][c]);
  }
}
__attribute__((target("avx512f,fma"), noinline)) static void adam_only(void) {
  for (int r = 0; r < GI; r++)
    for (int c = 0; c < GI; c += 16) adam16(_mm512_load_ps(&gw[r][c]), &gp[r][c], &gm[r][c], &gv[r][c]);
}
static void fused_optimizer(void) {
  for (int a = 0; a < GB; a++)
    for (int b = 0; b < GI; b++) {
      gx[a][b] = (a * 7 + b * 3) % 11 * 0.01f;
      gd[a][b] = (a * 5 + b) % 13 * 0.001f;
    }
  for (int a = 0; a < GI; a++)
    for (int b = 0; b < GI; b++) gp[a][b] = 0.1f, gm[a][b] = 0, gv[a][b] = 1e-4f;
  int n = 200000;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (int it = 0; it < n; it++) gradient_only();
    double t1 = now();
    for (int it = 0; it < n; it++) adam_only();
    double t2 = now();
    for (int it = 0; it < n; it++) interleaved();
    double t3 = now();
    printf("  dW = X^T D %.0f ns + Adam on it %.0f ns = %.0f ns; interleaved %.0f ns\n", (t1 - t0) / n * 1e9,
           (t2 - t1) / n * 1e9, (t2 - t0) / n * 1e9, (t3 - t2) / n * 1e9);
  }
  printf("  (checksum %f)\n", gp[3][5]);
}

int main(void) {
  fma_throughput();
  for (int i = 0; i < N; i++) {
    p[i] = sinf(i);
    g[i] = cosf(i * 0.7f) * 0.01f;
    m[i] = 0;
    v[i] = 1e-4f;
  }
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (int it = 0; it < 200000; it++) exact(0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f);
    double t1 = now();
    for (int it = 0; it < 200000; it++) approx(0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f);
    double t2 = now();
    for (int it = 0; it < 200000; it++) exact256(0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f);
    double t3 = now();
    for (int it = 0; it < 200000; it++) nodiv(0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f);
    double t4 = now();
    for (int it = 0; it < 200000; it++) sqrt_newton(0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f);
    double t5 = now();
    printf("Adam step over %d f32: sqrt+div zmm %.0f ns, rsqrt14+rcp14 zmm %.0f ns, sqrt+div ymm %.0f ns, "
           "no sqrt/div %.0f ns, sqrt + rcp14/Newton/correction %.0f ns\n",
           N, (t1 - t0) / 200000 * 1e9, (t2 - t1) / 200000 * 1e9, (t3 - t2) / 200000 * 1e9,
           (t4 - t3) / 200000 * 1e9, (t5 - t4) / 200000 * 1e9);
  }
  printf("(checksum %f)\n", p[5]);
  printf("Divider and FMAs:\n");
  divider_overlap();
  printf("Fused optimizer:\n");
  fused_optimizer();
  return 0;
}
