/*
 * Fused LSTM cell kernels for the unrolled coordinatewise LSTM optimizer (CPU, float32).
 *
 * L2lLstmCell(z [4H, N], c [H, N]) -> (c_next [H, N], h [H, N], act [5H, N])
 *   z holds the gate pre-activations in rows i, f, o, g (H rows each), one column per
 *   coordinate; i, f, o = sigmoid, g = tanh; c_next = f c + i g; h = o tanh(c_next);
 *   act keeps i, f, o, g and tanh(c_next) for the gradient.
 * L2lLstmCellGrad(act, c, dc_next, dh) -> (dz [4H, N], dc [H, N])
 *   the gradient of the cell with respect to z and c.
 *
 * TensorFlow's stock ops spend some twenty elementwise passes per cell and step (forward and
 * backward); these are one pass each. The library uses TensorFlow's C kernel API, which the
 * tensorflow-core-native jar exports from libtensorflow_framework.so.2 but ships no header for:
 * the few declarations needed are written out below, and the functions are looked up at load
 * time in the copy of that library the JVM has already loaded, so building needs only a C
 * compiler. TensorFlow.loadLibrary() runs the constructor, which registers both ops.
 *
 * sigmoid and tanh use fixed polynomial approximations (no libm calls), so loops vectorise and
 * results do not depend on the C library. The loops are built in several variants for CPU
 * features (see CLONES); a given machine always runs the same one, so the same input gives the
 * same bits there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

typedef struct TF_Status TF_Status;
typedef struct TF_Tensor TF_Tensor;
typedef struct TF_OpDefinitionBuilder TF_OpDefinitionBuilder;
typedef struct TF_KernelBuilder TF_KernelBuilder;
typedef struct TF_OpKernelConstruction TF_OpKernelConstruction;
typedef struct TF_OpKernelContext TF_OpKernelContext;
typedef struct TF_ShapeInferenceContext TF_ShapeInferenceContext;
typedef struct TF_ShapeHandle TF_ShapeHandle;

enum { TF_FLOAT = 1 };
enum { TF_OK = 0, TF_INVALID_ARGUMENT = 3, TF_INTERNAL = 13 };

static struct {
  TF_Status *(*NewStatus)(void);
  void (*DeleteStatus)(TF_Status *);
  int (*GetCode)(const TF_Status *);
  const char *(*Message)(const TF_Status *);
  void (*SetStatus)(TF_Status *, int, const char *);
  TF_OpDefinitionBuilder *(*NewOpDefinitionBuilder)(const char *);
  void (*OpDefinitionBuilderAddInput)(TF_OpDefinitionBuilder *, const char *);
  void (*OpDefinitionBuilderAddOutput)(TF_OpDefinitionBuilder *, const char *);
  void (*OpDefinitionBuilderSetShapeInferenceFunction)(
      TF_OpDefinitionBuilder *, void (*)(TF_ShapeInferenceContext *, TF_Status *));
  void (*RegisterOpDefinition)(TF_OpDefinitionBuilder *, TF_Status *);
  TF_ShapeHandle *(*NewShapeHandle)(void);
  void (*DeleteShapeHandle)(TF_ShapeHandle *);
  void (*ShapeInferenceContextGetInput)(TF_ShapeInferenceContext *, int, TF_ShapeHandle *,
                                        TF_Status *);
  void (*ShapeInferenceContextSetOutput)(TF_ShapeInferenceContext *, int, TF_ShapeHandle *,
                                         TF_Status *);
  int (*ShapeInferenceContextRankKnown)(TF_ShapeInferenceContext *, TF_ShapeHandle *);
  void (*ShapeInferenceContextSubshape)(TF_ShapeInferenceContext *, TF_ShapeHandle *, int64_t,
                                        int64_t, TF_ShapeHandle *, TF_Status *);
  TF_KernelBuilder *(*NewKernelBuilder)(const char *, const char *,
                                        void *(*)(TF_OpKernelConstruction *),
                                        void (*)(void *, TF_OpKernelContext *),
                                        void (*)(void *));
  void (*RegisterKernelBuilder)(const char *, TF_KernelBuilder *, TF_Status *);
  void (*GetInput)(TF_OpKernelContext *, int, TF_Tensor **, TF_Status *);
  TF_Tensor *(*AllocateOutput)(TF_OpKernelContext *, int, int, const int64_t *, int, size_t,
                               TF_Status *);
  void (*OpKernelContext_Failure)(TF_OpKernelContext *, TF_Status *);
  void *(*TensorData)(const TF_Tensor *);
  int (*NumDims)(const TF_Tensor *);
  int64_t (*Dim)(const TF_Tensor *, int);
  int (*TensorType)(const TF_Tensor *);
  void (*DeleteTensor)(TF_Tensor *);
} tf;

/* ---- math: vectorisable float approximations ---- */

/* exp(x) for x in [-87, 88] (clamped outside): Cephes' range reduction and polynomial. */
static inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float fx = floorf(x * 1.44269504088896341f + 0.5f);
  x = x - fx * 0.693359375f + fx * 2.12194440e-4f;
  float z = x * x;
  float y = 1.9875691500e-4f;
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * z + x + 1.0f;
  int32_t bits = ((int32_t)fx + 127) << 23; /* 2^fx */
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

static inline float sigmoid(float x) {
  float r = 1.0f / (1.0f + exp_approx(-x));
  return x != x ? x : r; /* NaN in, NaN out */
}

/* tanh(x): a rational approximation (odd degree 13 over even degree 6), clamped to +-9. */
static inline float tanh_approx(float x) {
  float small = x;
  float c = x < -9.0f ? -9.0f : x;
  c = c > 9.0f ? 9.0f : c;
  float x2 = c * c;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * c;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  float r = p / q;
  float ax = x < 0 ? -x : x;
  r = ax < 0.0004f ? small : r;
  return x != x ? x : r;
}

/* ---- kernels ---- */

/* Both loops are built three times, for AVX-512, for AVX2 with FMA and for plain x86-64, and
 * the loader picks the variant this CPU runs (GCC function multiversioning). A given machine
 * always runs the same variant, so results repeat bit for bit. */
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

/* The cell on one block: z [4H][B] (rows i, f, o, g) and c (rows ldc apart) to c_next, h, act
 * (the gates i, f, o, g; 4H rows) and tc (tanh(c_next), H rows), rows ldn, ldh, lda and ldt
 * apart. */
CLONES static void cell_forward(const float *restrict z, const float *restrict c, int64_t ldc,
                                float *restrict cn, int64_t ldn, float *restrict h, int64_t ldh,
                                float *restrict act, int64_t lda, float *restrict tc,
                                int64_t ldt, int H, int B) {
  size_t mz = (size_t)H * B;
  int64_t m = (int64_t)H * lda;
  for (int u = 0; u < H; u++) {
    const float *zi = z + (size_t)u * B, *zf = zi + mz, *zo = zi + 2 * mz, *zg = zi + 3 * mz;
    const float *cu = c + u * ldc;
    float *cnu = cn + u * ldn, *hu = h + u * ldh;
    float *ai = act + u * lda, *af = ai + m, *ao = ai + 2 * m, *ag = ai + 3 * m,
          *at = tc + u * ldt;
    for (int j = 0; j < B; j++) {
      float i = sigmoid(zi[j]), f = sigmoid(zf[j]), o = sigmoid(zo[j]), g = tanh_approx(zg[j]);
      float cv = f * cu[j] + i * g;
      float t = tanh_approx(cv);
      cnu[j] = cv;
      hu[j] = o * t;
      ai[j] = i;
      af[j] = f;
      ao[j] = o;
      ag[j] = g;
      at[j] = t;
    }
  }
}

/* One cell's gradient from its gates i, f, o, g, t = tanh(c_next), c, dc_next and dh: the gate
 * pre-activations' gradients and dc. */
static inline void cell_grad(float i, float f, float o, float g, float t, float c, float dcn,
                             float dh, float *di, float *df, float *dout, float *dg, float *dc) {
  float dct = dcn + dh * o * (1.0f - t * t);
  *di = dct * g * i * (1.0f - i);
  *df = dct * c * f * (1.0f - f);
  *dout = dh * t * o * (1.0f - o);
  *dg = dct * i * (1.0f - g * g);
  *dc = dct * f;
}

/* The cell's gradient on one block: act (rows lda apart: i, f, o, g and, unless cn is given,
 * tanh(c_next)), c, dc_next and cn (c_next, rows ldc apart; NULL: tanh(c_next) is act's fifth
 * group of rows), dh [H][B] to dz [4H][B] and dc (rows ldc apart). tanh(c_next) recomputed from
 * c_next has the forward's bits: the same function on the same value. */
CLONES static void cell_backward(const float *restrict act, int64_t lda, const float *restrict c,
                                 const float *restrict dcn, int64_t ldc,
                                 const float *restrict cn, const float *restrict dh,
                                 float *restrict dz, float *restrict dc, int H, int B) {
  size_t m = (size_t)H * B;
  int64_t ma = (int64_t)H * lda;
  for (int u = 0; u < H; u++) {
    const float *ai = act + u * lda, *af = ai + ma, *ao = ai + 2 * ma, *ag = ai + 3 * ma;
    const float *cu = c + u * ldc, *dcnu = dcn + u * ldc, *dhu = dh + (size_t)u * B;
    float *di = dz + (size_t)u * B, *df = di + m, *dout = di + 2 * m, *dg = di + 3 * m;
    float *dcu = dc + u * ldc;
    if (cn != NULL) {
      const float *cnu = cn + u * ldc;
      for (int j = 0; j < B; j++) {
        cell_grad(ai[j], af[j], ao[j], ag[j], tanh_approx(cnu[j]), cu[j], dcnu[j], dhu[j], &di[j],
                  &df[j], &dout[j], &dg[j], &dcu[j]);
      }
    } else {
      const float *at = ai + 4 * ma;
      for (int j = 0; j < B; j++) {
        cell_grad(ai[j], af[j], ao[j], ag[j], at[j], cu[j], dcnu[j], dhu[j], &di[j], &df[j],
                  &dout[j], &dg[j], &dcu[j]);
      }
    }
  }
}

/* lanes[0] + ... + lanes[15], in that order. */
static inline float lane_sum(const float *lanes) {
  float s = 0.0f;
  for (int l = 0; l < 16; l++) {
    s += lanes[l];
  }
  return s;
}

/* The output layer's gradient on one block: dh[u][j] = dhn[u][j] + w[u] dy[j] (rows of dhn and h
 * ld apart, of dh B apart) and dw[u] += sum_j dy[j] h[u][j], dw[H] += sum_j dy[j]. Each sum is
 * kept in 16 lanes (so that it vectorises: a single running sum is a chain of dependent adds),
 * added up in a fixed order. B is a multiple of 16. */
CLONES static void output_backward(const float *restrict dy, const float *restrict h,
                                   const float *restrict dhn, int64_t ld, const float *w,
                                   float *restrict dh, float *restrict dw, int H, int B) {
  float lanes[16];
  for (int u = 0; u < H; u++) {
    for (int l = 0; l < 16; l++) {
      lanes[l] = 0.0f;
    }
    for (int j = 0; j < B; j += 16) {
      for (int l = 0; l < 16; l++) {
        dh[(size_t)u * B + j + l] = dhn[u * ld + j + l] + w[u] * dy[j + l];
        lanes[l] += dy[j + l] * h[u * ld + j + l];
      }
    }
    dw[u] += lane_sum(lanes);
  }
  for (int l = 0; l < 16; l++) {
    lanes[l] = 0.0f;
  }
  for (int j = 0; j < B; j += 16) {
    for (int l = 0; l < 16; l++) {
      lanes[l] += dy[j + l];
    }
  }
  dw[H] += lane_sum(lanes);
}

static void *create(TF_OpKernelConstruction *ctx) {
  (void)ctx;
  return NULL;
}

static void destroy(void *kernel) { (void)kernel; }

static void fail(TF_OpKernelContext *ctx, TF_Status *s, const char *msg) {
  tf.SetStatus(s, TF_INVALID_ARGUMENT, msg);
  tf.OpKernelContext_Failure(ctx, s);
}

/* Allocates float output `index` of shape dims (rank 1 or 2), unless s already holds an error. */
static TF_Tensor *output(TF_OpKernelContext *ctx, TF_Status *s, int index, const int64_t *dims,
                         int rank) {
  if (tf.GetCode(s) != TF_OK) {
    return NULL;
  }
  int64_t n = 1;
  for (int k = 0; k < rank; k++) {
    n *= dims[k];
  }
  return tf.AllocateOutput(ctx, index, TF_FLOAT, dims, rank, sizeof(float) * (size_t)n, s);
}

/* Reads inputs 0..n-1; checks float32, rank 2, input 0 with 4H rows (z; 5H for the saved
 * activations when grad) and the rest [H, N]. Returns 0 and fills tensors on success; on failure
 * reports and returns -1. */
static int inputs(TF_OpKernelContext *ctx, TF_Status *s, int n, TF_Tensor **t, int64_t *rows,
                  int64_t *cols, int grad) {
  for (int k = 0; k < n; k++) {
    t[k] = NULL;
  }
  for (int k = 0; k < n; k++) {
    tf.GetInput(ctx, k, &t[k], s);
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
      return -1;
    }
    if (tf.TensorType(t[k]) != TF_FLOAT || tf.NumDims(t[k]) != 2) {
      fail(ctx, s, "L2lLstmCell: every input must be a float32 matrix");
      return -1;
    }
  }
  *rows = tf.Dim(t[1], 0);
  *cols = tf.Dim(t[1], 1);
  if (tf.Dim(t[0], 0) != (grad ? 5 : 4) * *rows || tf.Dim(t[0], 1) != *cols) {
    fail(ctx, s, grad ? "L2lLstmCellGrad: act must be [5H, N] for a state of [H, N]"
                      : "L2lLstmCell: z must be [4H, N] for a state of [H, N]");
    return -1;
  }
  for (int k = 2; k < n; k++) {
    if (tf.Dim(t[k], 0) != *rows || tf.Dim(t[k], 1) != *cols) {
      fail(ctx, s, "L2lLstmCellGrad: the output gradients must be [H, N] like the state");
      return -1;
    }
  }
  return 0;
}

static void release(TF_Tensor **t, int n) {
  for (int k = 0; k < n; k++) {
    if (t[k] != NULL) {
      tf.DeleteTensor(t[k]);
    }
  }
}

static void compute_forward(void *kernel, TF_OpKernelContext *ctx) {
  (void)kernel;
  TF_Status *s = tf.NewStatus();
  TF_Tensor *in[2];
  TF_Tensor *out[3] = {NULL, NULL, NULL};
  int64_t rows, cols;
  if (inputs(ctx, s, 2, in, &rows, &cols, 0) == 0) {
    int64_t dims[2] = {rows, cols};
    int64_t act_dims[2] = {5 * rows, cols};
    out[0] = output(ctx, s, 0, dims, 2);
    out[1] = output(ctx, s, 1, dims, 2);
    out[2] = output(ctx, s, 2, act_dims, 2);
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
    } else {
      cell_forward(tf.TensorData(in[0]), tf.TensorData(in[1]), cols, tf.TensorData(out[0]), cols,
                   tf.TensorData(out[1]), cols, tf.TensorData(out[2]), cols,
                   (float *)tf.TensorData(out[2]) + 4 * rows * cols, cols, (int)rows, (int)cols);
    }
  }
  release(in, 2);
  release(out, 3);
  tf.DeleteStatus(s);
}

static void compute_backward(void *kernel, TF_OpKernelContext *ctx) {
  (void)kernel;
  TF_Status *s = tf.NewStatus();
  TF_Tensor *in[4];
  TF_Tensor *out[2] = {NULL, NULL};
  int64_t rows, cols;
  if (inputs(ctx, s, 4, in, &rows, &cols, 1) == 0) {
    int64_t dz_dims[2] = {4 * rows, cols};
    int64_t dc_dims[2] = {rows, cols};
    out[0] = output(ctx, s, 0, dz_dims, 2);
    out[1] = output(ctx, s, 1, dc_dims, 2);
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
    } else {
      cell_backward(tf.TensorData(in[0]), cols, tf.TensorData(in[1]), tf.TensorData(in[2]),
                    cols, NULL, tf.TensorData(in[3]), tf.TensorData(out[0]),
                    tf.TensorData(out[1]), (int)rows, (int)cols);
    }
  }
  release(in, 4);
  release(out, 2);
  tf.DeleteStatus(s);
}

/* ---- the whole LSTM step in one op ---- */

/*
 * L2lLstmStep(x [F, N], state [2 L H, P], weights [W], dims [3 or 4])
 *   -> (y [N], state_next [2 L H, P], act [4 L H, P])
 *   One step of the L-layer coordinatewise LSTM and its linear output for N coordinates (columns).
 *   The state has P >= N columns, P a multiple of 32: the columns past N are padding, computed
 *   from inputs of zero and never read back into x, y or the weight gradient (whose terms from
 *   them are exact zeros, as their dy is zero), so that a problem of any size needs no padding
 *   and slicing ops around the step.
 *   state holds, per layer l, c_l (rows 2lH..2lH+H-1) then h_l, stored block by block (see
 *   state_block; the same for state_next, dstate_next and dstate). weights holds, per layer, the
 *   kernel with the bias as a last row, [(I_l + H + 1), 4H] row by row (I_0 = F, else H; gates
 *   i, f, o, g), then the output weights [H + 1] (bias last). dims = {L, threads, vectors}
 *   (threads 0: the CPUs this process may run on; vectors 0: the widest this CPU has, 8: 8-float
 *   vectors, for tests). act keeps each layer's gates i, f, o, g for the
 *   gradient, block by block (see act_block); the gradient recomputes tanh(c_next) from
 *   state_next, which it reads anyway and which the gradient of the next step has just brought
 *   into the cache, rather than read a fifth group of rows. A fourth element of dims, keep, is 0
 *   when no gradient will be taken: act is then [4 L H, 0] (the gradient op refuses it), as
 *   writing act is a large part of a large problem's forward op.
 * L2lLstmStepGrad(x, state, weights, dims, state_next, act, dy [N], dstate_next [2 L H, P])
 *   -> (dx [F, N], dstate [2 L H, P], dweights [W])
 *
 * The P columns are cut into blocks of BLOCK columns, processed one at a time in cache: the gate
 * pre-activations are register-tiled products of the small kernels with the block's rows. Blocks
 * are grouped into chunks of CHUNK columns, the forward op's unit of work for a thread. The
 * gradient's units are GROUPS fixed sets of chunks, each with its own partial weight gradient, added
 * in a fixed order: the result does not depend on the number of threads. Scratch memory is kept
 * per thread and reused (fresh pages cost more than the work here).
 */

#define MAX_LAYERS 16
#define BLOCK 128
#define CHUNK 256
/* The gradient's tasks: task g takes chunks g, g + GROUPS, ... and keeps one partial weight
 * gradient; the partials are added in task order. */
#define GROUPS 8
/* Below this many columns an op runs on its caller's thread alone, in one gradient task: waking
 * other threads would cost more than the work (at 1,280 columns, the batch of 128 quadratics,
 * two threads already gain: 10.8-11.2 ms a meta-step against 12.1-12.3). */
#define PARALLEL_MIN 1024

/* The products (gates, kernel gradient, input gradient) are built twice from
 * l2l_step_products.h: with 16-float vectors for AVX-512 machines and with 8-float vectors (for
 * AVX2 with FMA, and plain x86-64); products() picks one when the library loads. Within a build,
 * a machine always runs the same one. */
typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef float v8 __attribute__((vector_size(32), aligned(4)));

static const float ONES[BLOCK] = {
#define O4 1.0f, 1.0f, 1.0f, 1.0f
#define O32 O4, O4, O4, O4, O4, O4, O4, O4
    O32, O32, O32, O32
#undef O32
#undef O4
};

/* Compiled with contraction, so that a * b + c is one fused multiply-add. */
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")

/* dst[j][r] = src[r][j] for r, j < 16 (rows lddst and ldsrc apart): four rounds of shuffles. */
__attribute__((target("arch=x86-64-v4"))) static inline void transpose16(
    float *restrict dst, int64_t lddst, const float *restrict src, int64_t ldsrc) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; i++) {
    r[i] = _mm512_loadu_ps(src + i * ldsrc);
  }
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 2; i++) {
    for (int k = 0; k < 4; k++) {
      t[8 * i + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0x88);
      t[8 * i + 4 + k] = _mm512_shuffle_f32x4(r[8 * i + k], r[8 * i + 4 + k], 0xdd);
    }
  }
  for (int k = 0; k < 8; k++) {
    r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
    r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
  }
  for (int i = 0; i < 16; i++) {
    _mm512_storeu_ps(dst + i * lddst, r[i]);
  }
}

#define VEC v16
#define VW 16
#define TRANSPOSE16 transpose16
#define SUFFIX(name) name##_512
#define TARGET __attribute__((target("arch=x86-64-v4")))
#define TILE 8
#define KR 4
#define KV 5
#include "l2l_step_products.h"
#undef TRANSPOSE16
#undef KR
#undef KV
#undef TILE
#undef VEC
#undef VW
#undef SUFFIX
#undef TARGET

#define VEC v8
#define VW 8
#define SUFFIX(name) name##_256
#define TARGET __attribute__((target_clones("arch=x86-64-v3", "default")))
#define TILE 4
#define KR 2
#define KV 5
#include "l2l_step_products.h"
#undef KR
#undef KV
#undef TILE
#undef VEC
#undef VW
#undef SUFFIX
#undef TARGET

#pragma GCC pop_options

typedef struct {
  void (*gates_forward)(float *restrict, int, const float *restrict, int, const float *const *,
                        int);
  void (*kernel_grad)(float *restrict, const float *const *, int, const float *restrict, int,
                      int, float *restrict);
  void (*input_grad)(float *const *, const float *const *, const float *restrict, int, int,
                     const float *restrict, int);
  int vw; /* floats per vector */
} products;

static const products PRODUCTS_512 = {gates_forward_512, kernel_grad_512, input_grad_512, 16};
static const products PRODUCTS_256 = {gates_forward_256, kernel_grad_256, input_grad_256, 8};
static int has_avx512;

/* The products for this CPU; 8-float vectors everywhere if vectors is 8 (for tests). */
static const products *products_for(int vectors) {
  return has_avx512 && vectors != 8 ? &PRODUCTS_512 : &PRODUCTS_256;
}

/* y[j] = w[H] + sum_u w[u] h[u][j] (rows of h ldh apart). */
CLONES static void output_forward(float *restrict y, const float *restrict w,
                                  const float *restrict h, int64_t ldh, int H, int B) {
  for (int j = 0; j < B; j++) {
    y[j] = w[H];
  }
  for (int u = 0; u < H; u++) {
    const float *hu = h + u * ldh;
    for (int j = 0; j < B; j++) {
      y[j] += w[u] * hu[j];
    }
  }
}

/* ---- a small pool of worker threads ---- */

#define MAX_THREADS 64

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static int pool_started;            /* worker threads running */
static int pool_generation;         /* bumped per job (wrapping) */
static int pool_helpers;            /* workers that take part in the current job */
static int pool_active;             /* of those, still working */
static void (*pool_fn)(void *, int);
static void *pool_arg;
/* The caller's floating-point control and status word (MXCSR), which the helpers take on for each
 * job (a thread starts with its creator's): the kernels flush denormals to zero (FLUSHING below),
 * and a helper with other flags would round a denormal result differently from the caller, so the
 * bits would depend on which thread ran which task. */
static unsigned pool_csr;
static int pool_tasks;
static int pool_next;               /* next task, taken under pool_mutex */

static void run_tasks(void (*fn)(void *, int), void *arg) {
  for (;;) {
    pthread_mutex_lock(&pool_mutex);
    int t = pool_next < pool_tasks ? pool_next++ : -1;
    pthread_mutex_unlock(&pool_mutex);
    if (t < 0) {
      return;
    }
    fn(arg, t);
  }
}

/* Microseconds on a monotonic clock. */
static int64_t micros(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* How long a worker keeps looking for the next job before it sleeps, and how long the caller
 * looks for its helpers' end before it sleeps: waking a sleeping thread takes 100-150 us on a
 * virtual machine (its CPU has halted), a tenth of a large step op. While they look, they yield
 * the CPU to any other thread that wants it. */
#define SPIN_MICROS 2000

/* Waits, yielding the CPU, until *p != v or SPIN_MICROS have passed; returns whether *p changed. */
static int spin_while(const int *p, int v) {
  int64_t start = micros();
  for (int n = 0; __atomic_load_n(p, __ATOMIC_ACQUIRE) == v; n++) {
    if ((n & 15) == 15 && micros() - start > SPIN_MICROS) {
      return 0;
    }
    sched_yield();
  }
  return 1;
}

static void *pool_worker(void *p) {
  int id = (int)(intptr_t)p;
  int seen = 0;
  pthread_mutex_lock(&pool_mutex);
  for (;;) {
    if (pool_generation == seen) {
      pthread_mutex_unlock(&pool_mutex);
      spin_while(&pool_generation, seen);
      pthread_mutex_lock(&pool_mutex);
    }
    while (pool_generation == seen) {
      pthread_cond_wait(&pool_work, &pool_mutex);
    }
    seen = pool_generation;
    if (id >= pool_helpers) {
      continue;
    }
    void (*fn)(void *, int) = pool_fn;
    void *arg = pool_arg;
    _mm_setcsr(pool_csr);
    pthread_mutex_unlock(&pool_mutex);
    run_tasks(fn, arg);
    pthread_mutex_lock(&pool_mutex);
    if (__atomic_sub_fetch(&pool_active, 1, __ATOMIC_RELEASE) == 0) {
      pthread_cond_signal(&pool_done);
    }
  }
  return NULL;
}

static int cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    return CPU_COUNT(&set);
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* Runs fn(arg, t) for t < tasks on up to threads threads (0: the CPUs this process may use). Tasks
 * must write disjoint outputs: which thread runs which task does not change the result. */
static void parallel(void (*fn)(void *, int), void *arg, int tasks, int threads) {
  if (threads <= 0) {
    threads = cpus();
  }
  int helpers = (threads < tasks ? threads : tasks) - 1;
  if (helpers > MAX_THREADS - 1) {
    helpers = MAX_THREADS - 1;
  }
  if (helpers <= 0 || pthread_mutex_trylock(&pool_busy) != 0) {
    for (int t = 0; t < tasks; t++) {
      fn(arg, t);
    }
    return;
  }
  pthread_mutex_lock(&pool_mutex);
  while (pool_started < helpers) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int ok = pthread_create(&thread, &attr, pool_worker, (void *)(intptr_t)pool_started) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
      break;
    }
    pool_started++;
  }
  if (helpers > pool_started) {
    helpers = pool_started;
  }
  pool_fn = fn;
  pool_arg = arg;
  pool_csr = _mm_getcsr();
  pool_tasks = tasks;
  pool_next = 0;
  pool_helpers = helpers;
  pool_active = helpers;
  __atomic_store_n(&pool_generation, (int)((unsigned)pool_generation + 1u), __ATOMIC_RELEASE);
  pthread_cond_broadcast(&pool_work);
  pthread_mutex_unlock(&pool_mutex);
  run_tasks(fn, arg);
  int left; /* helpers still working; unchanged for SPIN_MICROS: sleep */
  while ((left = __atomic_load_n(&pool_active, __ATOMIC_ACQUIRE)) > 0
         && spin_while(&pool_active, left)) {
  }
  pthread_mutex_lock(&pool_mutex);
  while (pool_active > 0) {
    pthread_cond_wait(&pool_done, &pool_mutex);
  }
  pthread_mutex_unlock(&pool_mutex);
  pthread_mutex_unlock(&pool_busy);
}

/* ---- the step ---- */

/* Thread-local scratch, grown as needed and kept for the thread's life: slot 0 for a task's
 * buffers, slot 1 for the partial weight gradients of the op a thread runs. */
static __thread float *scratch_buf[2];
static __thread size_t scratch_cap[2];

static float *scratch(int slot, size_t floats) {
  if (scratch_cap[slot] < floats) {
    free(scratch_buf[slot]);
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    scratch_buf[slot] = aligned_alloc(64, bytes);
    scratch_cap[slot] = scratch_buf[slot] == NULL ? 0 : bytes / sizeof(float);
  }
  return scratch_buf[slot];
}

typedef struct {
  int L, H, F;
  int64_t P, N, W; /* state columns, x's columns (N <= P), weights */
  const float *x, *state, *w, *dy, *dstate_next;
  float *y, *state_next, *act, *dx, *dstate, *dw_parts;
  const float *K[MAX_LAYERS]; /* per layer: kernel with bias row */
  int in[MAX_LAYERS];         /* per layer: input rows I_l */
  int64_t Koff[MAX_LAYERS];   /* offset of K[l] in weights */
  const float *wout;
  int64_t wout_off;
  const products *mm;         /* the products' build for this CPU */
  int keep;                   /* forward: write act (else the gates go to scratch) */
  int failed;                 /* scratch could not be allocated */
} step_args;

/* Layer l's rows of act for the block of B columns at j0: act is kept block by block (the
 * block's 4 L H rows of B floats at act + 4 L H j0), so that a block's gates are one stream in
 * memory for the forward op to write and the gradient to read. */
static float *act_block(const step_args *a, int64_t j0, int B, int l) {
  return a->act + j0 * 4 * a->L * a->H + (int64_t)(4 * l) * a->H * B;
}

/* Where the block of columns at j0 starts in a state tensor (state, state_next, dstate_next,
 * dstate): they are kept block by block like act, the block's 2 L H rows of B floats at 2 L H j0
 * (row r at + r B), so that a block's state is one stream in memory rather than 2 L H rows P
 * apart. Only the step ops read these tensors (the state starts as zeros), so the order is
 * theirs to choose. */
static int64_t state_block(const step_args *a, int64_t j0) { return j0 * 2 * a->L * a->H; }

/* Asks for the n floats at p to be brought into the cache, for writing if write: the next
 * block's, while this block is computed. */
static void prefetch(const float *p, int64_t n, int write) {
  for (int64_t i = 0; i < n; i += 16) {
    if (write) {
      __builtin_prefetch(p + i, 1, 3);
    } else {
      __builtin_prefetch(p + i, 0, 3);
    }
  }
}

/* Rows of layer l's input matrix for the block of B columns at j0: the layer's input (x or the
 * layer below's h, given by below/ldb), then h_prev from the state, then the ones of the bias. */
static void layer_rows(const step_args *a, int l, int64_t j0, int B, const float *below,
                       int64_t ldb, const float **rows) {
  int I = a->in[l];
  for (int k = 0; k < I; k++) {
    rows[k] = below + k * ldb;
  }
  const float *hp = a->state + state_block(a, j0) + (int64_t)(2 * l + 1) * a->H * B;
  for (int u = 0; u < a->H; u++) {
    rows[I + u] = hp + u * B;
  }
  rows[I + a->H] = ONES;
}

static int64_t weight_count(int L, int H, int F) {
  int64_t n = 0;
  for (int l = 0; l < L; l++) {
    n += (int64_t)((l == 0 ? F : H) + H + 1) * 4 * H;
  }
  return n + H + 1;
}

/* Rows of a layer's input, [x or h below; h_prev; 1]: at most this many. */
#define MAX_ROWS(a) (((a)->F > (a)->H ? (a)->F : (a)->H) + (a)->H + 1)

/* The forward op's units of work for P columns: chunks of CHUNK columns. */
static int step_chunks(int64_t P) { return (int)((P + CHUNK - 1) / CHUNK); }

/* The gradient's units of work: one below PARALLEL_MIN columns, else up to GROUPS. */
static int step_groups(int64_t P) {
  int chunks = step_chunks(P);
  return P < PARALLEL_MIN ? 1 : chunks < GROUPS ? chunks : GROUPS;
}

/* The threads an op on P columns uses: its caller's alone below PARALLEL_MIN. */
static int step_threads(int64_t P, int threads) { return P < PARALLEL_MIN ? 1 : threads; }

/* Of the block of B columns at j0, the columns before N (0 to B). */
static int valid(const step_args *a, int64_t j0, int B) {
  int64_t v = a->N - j0;
  return v < 0 ? 0 : v < B ? (int)v : B;
}

/* x for the block of B columns at j0, its rows *ld apart: in place where the block lies before N,
 * else copied into edge ([F][B]) with zeros past N. */
static const float *block_x(const step_args *a, int64_t j0, int B, float *edge, int64_t *ld) {
  int v = valid(a, j0, B);
  if (v == B) {
    *ld = a->N;
    return a->x + j0;
  }
  for (int k = 0; k < a->F; k++) {
    memcpy(edge + (size_t)k * B, a->x + k * a->N + j0, sizeof(float) * (size_t)v);
    memset(edge + (size_t)k * B + v, 0, sizeof(float) * (size_t)(B - v));
  }
  *ld = B;
  return edge;
}

static void step_forward_chunk(void *p, int t) {
  const step_args *a = p;
  int H = a->H, M = 4 * H;
  int64_t P = a->P;
  int maxrows = MAX_ROWS(a);
  size_t zsize = (size_t)M * BLOCK, asize = (size_t)(5 * H) * BLOCK; /* gates, tanh_c */
  size_t psize = (size_t)maxrows * 2;                                  /* row pointers */
  float *z = scratch(0, zsize + asize + psize + (size_t)(a->F + 1) * BLOCK);
  if (z == NULL) {
    ((step_args *)p)->failed = 1;
    return;
  }
  float *gates = z + zsize; /* a layer's act for the block when act is not kept */
  float *tanh_c = gates + (size_t)M * BLOCK; /* tanh(c_next): the gradient recomputes it */
  const float **rows = (const float **)(gates + asize);
  float *edge = gates + asize + psize; /* x and y of a block that reaches past N */
  int64_t end = (int64_t)(t + 1) * CHUNK < P ? (int64_t)(t + 1) * CHUNK : P;
  int64_t R = 2 * (int64_t)a->L * H; /* state rows */
  for (int64_t j0 = (int64_t)t * CHUNK; j0 < end; j0 += BLOCK) {
    int B = (int)(end - j0 < BLOCK ? end - j0 : BLOCK);
    if (j0 + B < end) {
      int nb = (int)(end - j0 - B < BLOCK ? end - j0 - B : BLOCK);
      prefetch(a->state + state_block(a, j0 + B), R * nb, 0);
    }
    const float *s = a->state + state_block(a, j0);
    float *sn = a->state_next + state_block(a, j0);
    int64_t ldx;
    const float *x = block_x(a, j0, B, edge, &ldx);
    for (int l = 0; l < a->L; l++) {
      const float *below = l == 0 ? x : sn + (int64_t)(2 * l - 1) * H * B;
      layer_rows(a, l, j0, B, below, l == 0 ? ldx : B, rows);
      a->mm->gates_forward(z, B, a->K[l], M, rows, a->in[l] + H);
      int64_t c0 = (int64_t)(2 * l) * H * B;
      cell_forward(z, s + c0, B, sn + c0, B, sn + c0 + H * B, B,
                   a->act != NULL ? act_block(a, j0, B, l) : gates, B, tanh_c, B, H, B);
    }
    int v = valid(a, j0, B);
    float *y = v == B ? a->y + j0 : edge + (size_t)a->F * BLOCK;
    output_forward(y, a->wout, sn + (R - H) * B, B, H, B);
    if (v < B) {
      memcpy(a->y + j0, y, sizeof(float) * (size_t)v);
    }
  }
}

/* The gradient for the columns of one chunk, its weight gradient added to dw (the layers' kernels
 * at Koff[l], the output weights at wout_off); dzT is the kernel gradient's scratch, edge
 * ([2 F + 1][BLOCK]) holds x, dx and dy of a block that reaches past N. next is the first column
 * of the chunk this task does next (-1: none), whose rows the last block prefetches. */
static void step_backward_block_range(const step_args *a, int64_t begin, int64_t end,
                                      int64_t next, float *dz, float *dh, const float **rows,
                                      float **out, const float **add, float *dzT, float *edge,
                                      float *dw) {
  int H = a->H, M = 4 * H, L = a->L;
  int64_t P = a->P;
  float *dwout = dw + a->wout_off;
  int64_t R = 2 * (int64_t)L * H; /* state rows */
  for (int64_t j0 = begin; j0 < end; j0 += BLOCK) {
    int B = (int)(end - j0 < BLOCK ? end - j0 : BLOCK);
    int64_t j1 = j0 + B < end ? j0 + B : next; /* the block after this one, or -1 */
    if (j1 >= 0) {
      int nb = (int)(P - j1 < BLOCK ? P - j1 : BLOCK);
      prefetch(a->state + state_block(a, j1), R * nb, 0);
      prefetch(a->dstate_next + state_block(a, j1), R * nb, 0);
      prefetch(a->dstate + state_block(a, j1), R * nb, 1);
      prefetch(a->state_next + state_block(a, j1), R * nb, 0);
    }
    int64_t sb = state_block(a, j0);
    const float *s = a->state + sb, *sn = a->state_next + sb, *dsn = a->dstate_next + sb;
    float *ds = a->dstate + sb;
    int v = valid(a, j0, B);
    int64_t ldx;
    const float *x = block_x(a, j0, B, edge, &ldx);
    float *dxe = edge + (size_t)a->F * B, *dye = dxe + (size_t)a->F * B;
    if (v < B) { /* dy is zero past N */
      memcpy(dye, a->dy + j0, sizeof(float) * (size_t)v);
      memset(dye + v, 0, sizeof(float) * (size_t)(B - v));
    }
    /* output layer: its weights' gradient, and dL/dh of the top layer into dh */
    const float *dy = v == B ? a->dy + j0 : dye;
    output_backward(dy, sn + (R - H) * B, dsn + (R - H) * B, B, a->wout, dh, dwout, H, B);
    /* layers, top down; dh holds dL/dh of the layer's output for the block (rows B apart) */
    for (int l = L - 1; l >= 0; l--) {
      int64_t c0 = (int64_t)(2 * l) * H * B;
      int I = a->in[l];
      cell_backward(act_block(a, j0, B, l), B, s + c0, dsn + c0, B, sn + c0, dh, dz, ds + c0, H,
                    B);
      const float *below = l == 0 ? x : sn + (int64_t)(2 * l - 1) * H * B;
      layer_rows(a, l, j0, B, below, l == 0 ? ldx : B, rows);
      a->mm->kernel_grad(dw + a->Koff[l], rows, I + H, dz, M, B, dzT);
      for (int k = 0; k < I; k++) {
        if (l == 0) {
          out[k] = v == B ? a->dx + k * a->N + j0 : dxe + (size_t)k * B;
          add[k] = NULL;
        } else {
          out[k] = dh + (size_t)k * B; /* becomes dL/dh of the layer below */
          add[k] = dsn + ((int64_t)(2 * l - 1) * H + k) * B;
        }
      }
      for (int u = 0; u < H; u++) {
        out[I + u] = ds + ((int64_t)(2 * l + 1) * H + u) * B;
        add[I + u] = NULL;
      }
      a->mm->input_grad(out, add, a->K[l], M, I + H, dz, B);
    }
    if (v < B) {
      for (int k = 0; k < a->F; k++) {
        memcpy(a->dx + k * a->N + j0, dxe + (size_t)k * B, sizeof(float) * (size_t)v);
      }
    }
  }
}

/* Task g of the gradient: chunks g, g + GROUPS, ...; its weight gradient into dw_parts[g]. */
static void step_backward_group(void *p, int g) {
  const step_args *a = p;
  int H = a->H, M = 4 * H;
  int64_t P = a->P;
  int maxrows = MAX_ROWS(a);
  int vw = a->mm->vw;
  size_t buf = (size_t)(5 * H) * BLOCK;                   /* dz [4H][B], dh [H][B] */
  size_t ptrs = (size_t)maxrows * 2 * 3;                  /* rows, out, add (2 floats each) */
  size_t tsize = (size_t)BLOCK * ((M + vw - 1) / vw * vw); /* dz transposed */
  size_t esize = (size_t)(2 * a->F + 1) * BLOCK;          /* x, dx, dy past N */
  float *mem = scratch(0, buf + ptrs + tsize + esize + 16);
  if (mem == NULL) {
    ((step_args *)p)->failed = 1;
    return;
  }
  float *dz = mem;
  float *dh = mem + (size_t)M * BLOCK;
  const float **rows = (const float **)(mem + buf);
  float **out = (float **)(rows + maxrows);
  const float **add = (const float **)(out + maxrows);
  float *dzT = mem + (buf + ptrs + 15) / 16 * 16;
  float *edge = dzT + tsize;
  float *dw = a->dw_parts + (size_t)g * a->W;
  memset(dw, 0, sizeof(float) * (size_t)a->W);
  int chunks = step_chunks(P);
  int groups = step_groups(P);
  for (int c = g; c < chunks; c += groups) {
    int64_t begin = (int64_t)c * CHUNK;
    int64_t end = begin + CHUNK < P ? begin + CHUNK : P;
    int64_t next = c + groups < chunks ? (int64_t)(c + groups) * CHUNK : -1;
    step_backward_block_range(a, begin, end, next, dz, dh, rows, out, add, dzT, edge, dw);
  }
}

/* Reads the op's first n inputs (all float32) into t; on failure reports and returns -1. */
static int read_inputs(TF_OpKernelContext *ctx, TF_Status *s, int n, TF_Tensor **t) {
  for (int k = 0; k < n; k++) {
    t[k] = NULL;
  }
  for (int k = 0; k < n; k++) {
    tf.GetInput(ctx, k, &t[k], s);
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
      return -1;
    }
    if (tf.TensorType(t[k]) != TF_FLOAT) {
      fail(ctx, s, "L2lLstmStep: every input must be float32");
      return -1;
    }
  }
  return 0;
}

/* Checks x, state, weights, dims (and, for the gradient, dy and dstate_next) and fills a. */
static int step_setup(TF_OpKernelContext *ctx, TF_Status *s, TF_Tensor **in, int grad,
                      step_args *a, int *threads) {
  memset(a, 0, sizeof *a);
  if (tf.NumDims(in[0]) != 2 || tf.NumDims(in[1]) != 2 || tf.NumDims(in[2]) != 1
      || tf.NumDims(in[3]) != 1 || (tf.Dim(in[3], 0) != 3 && tf.Dim(in[3], 0) != 4)) {
    fail(ctx, s, "L2lLstmStep: x and state must be matrices, weights a vector, dims [3] or [4]");
    return -1;
  }
  const float *dims = tf.TensorData(in[3]);
  int L = (int)dims[0];
  int64_t S = tf.Dim(in[1], 0), P = tf.Dim(in[1], 1);
  if (L < 1 || L > MAX_LAYERS || S % (2 * L) != 0 || S == 0) {
    fail(ctx, s, "L2lLstmStep: the state must have 2 H rows per layer (1 to 16 layers)");
    return -1;
  }
  int H = (int)(S / (2 * L));
  int F = (int)tf.Dim(in[0], 0);
  int64_t N = tf.Dim(in[0], 1);
  if (N > P || P % 32 != 0) {
    fail(ctx, s, "L2lLstmStep: the state's columns must be a multiple of 32 and at least x's");
    return -1;
  }
  int64_t W = weight_count(L, H, F);
  if (tf.Dim(in[2], 0) != W) {
    fail(ctx, s, "L2lLstmStep: weights has the wrong length for these layers and sizes");
    return -1;
  }
  if (grad && tf.NumDims(in[5]) == 2 && tf.Dim(in[5], 1) == 0 && P > 0) {
    fail(ctx, s, "L2lLstmStepGrad: the forward op kept no gates for a gradient (its dims[3] "
                 "was 0: built for evaluation)");
    return -1;
  }
  if (grad && (tf.NumDims(in[4]) != 2 || tf.Dim(in[4], 0) != S || tf.Dim(in[4], 1) != P
               || tf.NumDims(in[5]) != 2 || tf.Dim(in[5], 0) != 4 * L * H
               || tf.Dim(in[5], 1) != P || tf.NumDims(in[6]) != 1 || tf.Dim(in[6], 0) != N
               || tf.NumDims(in[7]) != 2 || tf.Dim(in[7], 0) != S || tf.Dim(in[7], 1) != P)) {
    fail(ctx, s, "L2lLstmStepGrad: state_next and dstate_next must be like the state, act [4 L "
                 "H, P], dy like y [N]");
    return -1;
  }
  a->L = L;
  a->H = H;
  a->F = F;
  a->P = P;
  a->N = N;
  a->W = W;
  a->x = tf.TensorData(in[0]);
  a->state = tf.TensorData(in[1]);
  a->w = tf.TensorData(in[2]);
  int64_t off = 0;
  for (int l = 0; l < L; l++) {
    a->in[l] = l == 0 ? F : H;
    a->K[l] = a->w + off;
    a->Koff[l] = off;
    off += (int64_t)(a->in[l] + H + 1) * 4 * H;
  }
  a->wout = a->w + off;
  a->wout_off = off;
  if (grad) {
    a->state_next = tf.TensorData(in[4]);
    a->act = tf.TensorData(in[5]);
    a->dy = tf.TensorData(in[6]);
    a->dstate_next = tf.TensorData(in[7]);
  }
  a->mm = products_for((int)dims[2]);
  a->keep = tf.Dim(in[3], 0) < 4 || dims[3] != 0.0f;
  *threads = (int)dims[1];
  return 0;
}

static void compute_step(void *kernel, TF_OpKernelContext *ctx) {
  (void)kernel;
  TF_Status *s = tf.NewStatus();
  TF_Tensor *in[4];
  TF_Tensor *out[3] = {NULL, NULL, NULL};
  step_args a;
  int threads;
  if (read_inputs(ctx, s, 4, in) == 0 && step_setup(ctx, s, in, 0, &a, &threads) == 0) {
    int64_t ydims[1] = {a.N};
    int64_t sdims[2] = {tf.Dim(in[1], 0), a.P};
    int64_t adims[2] = {4 * (int64_t)a.L * a.H, a.keep ? a.P : 0};
    out[0] = output(ctx, s, 0, ydims, 1);
    out[1] = output(ctx, s, 1, sdims, 2);
    out[2] = output(ctx, s, 2, adims, 2);
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
    } else {
      a.y = tf.TensorData(out[0]);
      a.state_next = tf.TensorData(out[1]);
      a.act = a.keep ? tf.TensorData(out[2]) : NULL;
      parallel(step_forward_chunk, &a, step_chunks(a.P), step_threads(a.P, threads));
      if (a.failed) {
        tf.SetStatus(s, TF_INTERNAL, "L2lLstmStep: out of memory");
        tf.OpKernelContext_Failure(ctx, s);
      }
    }
  }
  release(in, 4);
  release(out, 3);
  tf.DeleteStatus(s);
}

static void compute_step_grad(void *kernel, TF_OpKernelContext *ctx) {
  (void)kernel;
  TF_Status *s = tf.NewStatus();
  TF_Tensor *in[8];
  TF_Tensor *out[3] = {NULL, NULL, NULL};
  step_args a;
  int threads;
  if (read_inputs(ctx, s, 8, in) == 0 && step_setup(ctx, s, in, 1, &a, &threads) == 0) {
    int64_t xdims[2] = {a.F, a.N};
    int64_t sdims[2] = {tf.Dim(in[1], 0), a.P};
    int64_t wdims[1] = {a.W};
    out[0] = output(ctx, s, 0, xdims, 2);
    out[1] = output(ctx, s, 1, sdims, 2);
    out[2] = output(ctx, s, 2, wdims, 1);
    int groups = step_groups(a.P);
    if (tf.GetCode(s) == TF_OK) {
      a.dw_parts = scratch(1, (size_t)groups * (size_t)a.W);
      if (a.dw_parts == NULL) {
        tf.SetStatus(s, TF_INTERNAL, "L2lLstmStepGrad: out of memory");
      }
    }
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
    } else {
      a.dx = tf.TensorData(out[0]);
      a.dstate = tf.TensorData(out[1]);
      parallel(step_backward_group, &a, groups, step_threads(a.P, threads));
      float *dw = tf.TensorData(out[2]);
      memcpy(dw, a.dw_parts, sizeof(float) * (size_t)a.W);
      for (int t = 1; t < groups; t++) {
        const float *part = a.dw_parts + (size_t)t * a.W;
        for (int64_t i = 0; i < a.W; i++) {
          dw[i] += part[i];
        }
      }
      if (a.failed) {
        tf.SetStatus(s, TF_INTERNAL, "L2lLstmStepGrad: out of memory");
        tf.OpKernelContext_Failure(ctx, s);
      }
    }
  }
  release(in, 8);
  release(out, 3);
  tf.DeleteStatus(s);
}

/* Output out has the shape of input in (nothing if s already holds an error). */
static void same_shape(TF_ShapeInferenceContext *ctx, TF_Status *s, int out, int in) {
  if (tf.GetCode(s) != TF_OK) {
    return;
  }
  TF_ShapeHandle *h = tf.NewShapeHandle();
  tf.ShapeInferenceContextGetInput(ctx, in, h, s);
  if (tf.GetCode(s) == TF_OK) {
    tf.ShapeInferenceContextSetOutput(ctx, out, h, s);
  }
  tf.DeleteShapeHandle(h);
}

/* c_next and h have the shape of c (act's rows, 5H, are left to run time). */
static void shape_forward(TF_ShapeInferenceContext *ctx, TF_Status *s) {
  same_shape(ctx, s, 0, 1);
  same_shape(ctx, s, 1, 1);
}

/* dc has the shape of c (dz's rows, 4H, are left to run time). */
static void shape_backward(TF_ShapeInferenceContext *ctx, TF_Status *s) {
  same_shape(ctx, s, 1, 1);
}

/* y is [N], N x's columns; state_next has the shape of state. A known y lets the shapes of the
 * update and of every later theta be known when the graph is built (so that theta + update can
 * be an AddN, whose gradient needs no shapes at run time). */
static void shape_step(TF_ShapeInferenceContext *ctx, TF_Status *s) {
  same_shape(ctx, s, 1, 1);
  if (tf.GetCode(s) != TF_OK) {
    return;
  }
  TF_ShapeHandle *x = tf.NewShapeHandle();
  TF_ShapeHandle *y = tf.NewShapeHandle();
  tf.ShapeInferenceContextGetInput(ctx, 0, x, s);
  if (tf.GetCode(s) == TF_OK && tf.ShapeInferenceContextRankKnown(ctx, x)) {
    tf.ShapeInferenceContextSubshape(ctx, x, 1, 2, y, s);
    if (tf.GetCode(s) == TF_OK) {
      tf.ShapeInferenceContextSetOutput(ctx, 0, y, s);
    }
  }
  tf.DeleteShapeHandle(y);
  tf.DeleteShapeHandle(x);
}

/* dx, dstate and dweights have the shapes of x, state and weights. */
static void shape_step_grad(TF_ShapeInferenceContext *ctx, TF_Status *s) {
  for (int k = 0; k < 3; k++) {
    same_shape(ctx, s, k, k);
  }
}

#define LOOKUP(field, name)                                                          \
  do {                                                                               \
    *(void **)(&tf.field) = dlsym(lib, name);                                        \
    if (tf.field == NULL) {                                                          \
      fprintf(stderr, "l2l fused LSTM kernels: %s not found in %s\n", name, LIBRARY); \
      return -1;                                                                     \
    }                                                                                \
  } while (0)

#define LIBRARY "libtensorflow_framework.so.2"

static int lookup(void) {
  void *lib = dlopen(LIBRARY, RTLD_NOW | RTLD_NOLOAD);
  if (lib == NULL) {
    fprintf(stderr, "l2l fused LSTM kernels: %s is not loaded\n", LIBRARY);
    return -1;
  }
  LOOKUP(NewStatus, "TF_NewStatus");
  LOOKUP(DeleteStatus, "TF_DeleteStatus");
  LOOKUP(GetCode, "TF_GetCode");
  LOOKUP(Message, "TF_Message");
  LOOKUP(SetStatus, "TF_SetStatus");
  LOOKUP(NewOpDefinitionBuilder, "TF_NewOpDefinitionBuilder");
  LOOKUP(OpDefinitionBuilderAddInput, "TF_OpDefinitionBuilderAddInput");
  LOOKUP(OpDefinitionBuilderAddOutput, "TF_OpDefinitionBuilderAddOutput");
  LOOKUP(OpDefinitionBuilderSetShapeInferenceFunction,
         "TF_OpDefinitionBuilderSetShapeInferenceFunction");
  LOOKUP(RegisterOpDefinition, "TF_RegisterOpDefinition");
  LOOKUP(NewShapeHandle, "TF_NewShapeHandle");
  LOOKUP(DeleteShapeHandle, "TF_DeleteShapeHandle");
  LOOKUP(ShapeInferenceContextGetInput, "TF_ShapeInferenceContextGetInput");
  LOOKUP(ShapeInferenceContextSetOutput, "TF_ShapeInferenceContextSetOutput");
  LOOKUP(ShapeInferenceContextRankKnown, "TF_ShapeInferenceContextRankKnown");
  LOOKUP(ShapeInferenceContextSubshape, "TF_ShapeInferenceContextSubshape");
  LOOKUP(NewKernelBuilder, "TF_NewKernelBuilder");
  LOOKUP(RegisterKernelBuilder, "TF_RegisterKernelBuilder");
  LOOKUP(GetInput, "TF_GetInput");
  LOOKUP(AllocateOutput, "TF_AllocateOutput");
  LOOKUP(OpKernelContext_Failure, "TF_OpKernelContext_Failure");
  LOOKUP(TensorData, "TF_TensorData");
  LOOKUP(NumDims, "TF_NumDims");
  LOOKUP(Dim, "TF_Dim");
  LOOKUP(TensorType, "TF_TensorType");
  LOOKUP(DeleteTensor, "TF_DeleteTensor");
  return 0;
}

static void check(TF_Status *s, const char *what) {
  if (tf.GetCode(s) != TF_OK) {
    fprintf(stderr, "l2l fused LSTM kernels: registering %s failed: %s\n", what, tf.Message(s));
  }
}

/* The kernels run with denormals flushed to zero: MXCSR's flush-to-zero (bit 15) and
 * denormals-are-zero (bit 6) are set for the op, and the caller's control bits restored after it
 * (the exception flags it raised are kept); the helpers take on the caller's word (pool_csr).
 * TensorFlow's own threads flush denormals, but the unroll's session runs its ops on the thread
 * that called Session.run (Unroll.sessionConfig), a Java thread, which does not (and a new thread
 * starts with its creator's flags): without this, an op's bits on denormal values depended on the thread it
 * ran on, and a long run on one problem, whose gradients reach the denormal range, made an MNIST
 * meta-step up to 7 times slower on Intel CPUs (a microcode assist for every operation on a
 * denormal). */
#define FLUSHING(body)                                                  \
  static void body##_flushing(void *kernel, TF_OpKernelContext *ctx) {  \
    unsigned saved = _mm_getcsr();                                      \
    _mm_setcsr(saved | 0x8040u);                                        \
    body(kernel, ctx);                                                  \
    _mm_setcsr((_mm_getcsr() & 0x3fu) | (saved & ~0x3fu));              \
  }
FLUSHING(compute_forward)
FLUSHING(compute_backward)
FLUSHING(compute_step)
FLUSHING(compute_step_grad)
#undef FLUSHING

/* Registers the op called name (inputs and outputs: NULL-terminated "name: float" specs) and its
 * CPU kernel. */
static void register_op(TF_Status *s, const char *name, const char *const *inputs,
                        const char *const *outputs,
                        void (*shape)(TF_ShapeInferenceContext *, TF_Status *),
                        void (*compute)(void *, TF_OpKernelContext *)) {
  TF_OpDefinitionBuilder *op = tf.NewOpDefinitionBuilder(name);
  for (const char *const *in = inputs; *in != NULL; in++) {
    tf.OpDefinitionBuilderAddInput(op, *in);
  }
  for (const char *const *out = outputs; *out != NULL; out++) {
    tf.OpDefinitionBuilderAddOutput(op, *out);
  }
  tf.OpDefinitionBuilderSetShapeInferenceFunction(op, shape);
  tf.RegisterOpDefinition(op, s);
  check(s, name);
  char kernel[64];
  snprintf(kernel, sizeof kernel, "%sCpu", name);
  tf.RegisterKernelBuilder(kernel, tf.NewKernelBuilder(name, "CPU", create, compute, destroy), s);
  check(s, kernel);
}

__attribute__((constructor)) static void register_ops(void) {
  /* For XLA (org.l2l.tf.Xla): its older CPU code path, unless the user chose otherwise. XLA reads
   * the variable at its first compilation, after this library has loaded. */
  setenv("XLA_FLAGS", "--xla_cpu_use_thunk_runtime=false", 0);
  if (lookup() != 0) {
    return;
  }
  __builtin_cpu_init();
  has_avx512 = __builtin_cpu_supports("x86-64-v4");
  static const char *const cell_in[] = {"z: float", "c: float", NULL};
  static const char *const cell_out[] = {"c_next: float", "h: float", "act: float", NULL};
  static const char *const grad_in[] = {"act: float", "c: float", "dc_next: float", "dh: float",
                                        NULL};
  static const char *const grad_out[] = {"dz: float", "dc: float", NULL};
  TF_Status *s = tf.NewStatus();
  register_op(s, "L2lLstmCell", cell_in, cell_out, shape_forward, compute_forward_flushing);
  register_op(s, "L2lLstmCellGrad", grad_in, grad_out, shape_backward,
              compute_backward_flushing);
  static const char *const step_in[] = {"x: float", "state: float", "weights: float",
                                        "dims: float", NULL};
  static const char *const step_out[] = {"y: float", "state_next: float", "act: float", NULL};
  static const char *const step_grad_in[] = {"x: float",          "state: float",
                                             "weights: float",    "dims: float",
                                             "state_next: float", "act: float",
                                             "dy: float",         "dstate_next: float",
                                             NULL};
  static const char *const step_grad_out[] = {"dx: float", "dstate: float", "dweights: float",
                                              NULL};
  register_op(s, "L2lLstmStep", step_in, step_out, shape_step, compute_step_flushing);
  register_op(s, "L2lLstmStepGrad", step_grad_in, step_grad_out, shape_step_grad,
              compute_step_grad_flushing);
  tf.DeleteStatus(s);
}
