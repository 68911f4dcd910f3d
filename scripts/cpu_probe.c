// CPU probe behind two statements in README.md's Performance section (not
// part of the library or CI; needs an x86-64 CPU with AVX-512F):
//
//   gcc -O2 scripts/cpu_probe.c -o /tmp/cpu_probe -lm && /tmp/cpu_probe
//
// 1. FMA throughput: 12 independent chains of 512-bit FMAs, then of 256-bit
//    ones. Equal lanes per second means one 512-bit FMA unit (the machine of
//    the README: 55.6 vs 56.8 G lanes/s).
// 2. Adam's update over the digits MLP's 4864 f32 parameters: sqrt and
//    division (as stackgrad's loop), the same with AVX-512 rsqrt14/rcp14 and
//    one Newton step each, and the exact loop in 256-bit vectors.
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
    printf("Adam step over %d f32: sqrt+div zmm %.0f ns, rsqrt14+rcp14 zmm %.0f ns, sqrt+div ymm %.0f ns\n",
           N, (t1 - t0) / 200000 * 1e9, (t2 - t1) / 200000 * 1e9, (t3 - t2) / 200000 * 1e9);
  }
  printf("(checksum %f)\n", p[5]);
  return 0;
}
