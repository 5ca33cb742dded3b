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
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* One pass over a cell of m = H N state elements (gate blocks m apart). */
CLONES static void forward(const float *restrict z, const float *restrict c,
                           float *restrict c_next, float *restrict h, float *restrict act,
                           int64_t m) {
  const float *zi = z, *zf = z + m, *zo = z + 2 * m, *zg = z + 3 * m;
  float *ai = act, *af = act + m, *ao = act + 2 * m, *ag = act + 3 * m, *at = act + 4 * m;
  for (int64_t e = 0; e < m; e++) {
    float i = sigmoid(zi[e]), f = sigmoid(zf[e]), o = sigmoid(zo[e]), g = tanh_approx(zg[e]);
    float cn = f * c[e] + i * g;
    float t = tanh_approx(cn);
    c_next[e] = cn;
    h[e] = o * t;
    ai[e] = i;
    af[e] = f;
    ao[e] = o;
    ag[e] = g;
    at[e] = t;
  }
}

CLONES static void backward(const float *restrict act, const float *restrict c,
                            const float *restrict dc_next, const float *restrict dh,
                            float *restrict dz, float *restrict dc, int64_t m) {
  const float *ai = act, *af = act + m, *ao = act + 2 * m, *ag = act + 3 * m, *at = act + 4 * m;
  float *di = dz, *df = dz + m, *dout = dz + 2 * m, *dg = dz + 3 * m;
  for (int64_t e = 0; e < m; e++) {
    float i = ai[e], f = af[e], o = ao[e], g = ag[e], t = at[e];
    float dct = dc_next[e] + dh[e] * o * (1.0f - t * t);
    di[e] = dct * g * i * (1.0f - i);
    df[e] = dct * c[e] * f * (1.0f - f);
    dout[e] = dh[e] * t * o * (1.0f - o);
    dg[e] = dct * i * (1.0f - g * g);
    dc[e] = dct * f;
  }
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
    size_t bytes = (size_t)(rows * cols) * sizeof(float);
    for (int k = 0; k < 2 && tf.GetCode(s) == TF_OK; k++) {
      out[k] = tf.AllocateOutput(ctx, k, TF_FLOAT, dims, 2, bytes, s);
    }
    if (tf.GetCode(s) == TF_OK) {
      out[2] = tf.AllocateOutput(ctx, 2, TF_FLOAT, act_dims, 2, 5 * bytes, s);
    }
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
    } else {
      forward(tf.TensorData(in[0]), tf.TensorData(in[1]), tf.TensorData(out[0]),
              tf.TensorData(out[1]), tf.TensorData(out[2]), rows * cols);
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
    size_t bytes = (size_t)(rows * cols) * sizeof(float);
    out[0] = tf.AllocateOutput(ctx, 0, TF_FLOAT, dz_dims, 2, 4 * bytes, s);
    if (tf.GetCode(s) == TF_OK) {
      out[1] = tf.AllocateOutput(ctx, 1, TF_FLOAT, dc_dims, 2, bytes, s);
    }
    if (tf.GetCode(s) != TF_OK) {
      tf.OpKernelContext_Failure(ctx, s);
    } else {
      backward(tf.TensorData(in[0]), tf.TensorData(in[1]), tf.TensorData(in[2]),
               tf.TensorData(in[3]), tf.TensorData(out[0]), tf.TensorData(out[1]),
               rows * cols);
    }
  }
  release(in, 4);
  release(out, 2);
  tf.DeleteStatus(s);
}

/* Outputs first..last have the shape of input 1, the state c. */
static void like_c(TF_ShapeInferenceContext *ctx, TF_Status *s, int first, int last) {
  TF_ShapeHandle *h = tf.NewShapeHandle();
  tf.ShapeInferenceContextGetInput(ctx, 1, h, s);
  for (int k = first; k <= last && tf.GetCode(s) == TF_OK; k++) {
    tf.ShapeInferenceContextSetOutput(ctx, k, h, s);
  }
  tf.DeleteShapeHandle(h);
}

/* c_next and h have the shape of c (act's rows, 5H, are left to run time). */
static void shape_forward(TF_ShapeInferenceContext *ctx, TF_Status *s) { like_c(ctx, s, 0, 1); }

/* dc has the shape of c (dz's rows, 4H, are left to run time). */
static void shape_backward(TF_ShapeInferenceContext *ctx, TF_Status *s) { like_c(ctx, s, 1, 1); }

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
  if (lookup() != 0) {
    return;
  }
  static const char *const cell_in[] = {"z: float", "c: float", NULL};
  static const char *const cell_out[] = {"c_next: float", "h: float", "act: float", NULL};
  static const char *const grad_in[] = {"act: float", "c: float", "dc_next: float", "dh: float",
                                        NULL};
  static const char *const grad_out[] = {"dz: float", "dc: float", NULL};
  TF_Status *s = tf.NewStatus();
  register_op(s, "L2lLstmCell", cell_in, cell_out, shape_forward, compute_forward);
  register_op(s, "L2lLstmCellGrad", grad_in, grad_out, shape_backward, compute_backward);
  tf.DeleteStatus(s);
}
