/*
 * The small matrix products of the LSTM step (included by l2l_lstm.c, twice): VEC is a vector of
 * VW floats, SUFFIX names this build's functions, TARGET its CPU target, TILE the rows of a tile
 * (8 where there are 32 vector registers, 4 where there are 16). Inputs are row pointers, so that
 * a layer's input [x; h_prev; 1] is read in place from the tensors. B, the block's columns, is a
 * multiple of 2 VW. Each tile function is inlined with a constant row count, so that its
 * accumulators stay in registers.
 */

/* Rows r..r+R-1 of z = K^T [rows; 1] for columns j..j+2VW-1. */
static inline __attribute__((always_inline)) void SUFFIX(gates_tile)(
    float *restrict z, int B, const float *restrict K, int M, const float *const *rows, int kk,
    int r, int j, const int R) {
  const float *bias = K + (size_t)kk * M + r;
  VEC a[8][2];
  for (int q = 0; q < R; q++) {
    a[q][0] = (VEC){0} + bias[q];
    a[q][1] = a[q][0];
  }
  for (int k = 0; k < kk; k++) {
    const float *xr = rows[k] + j;
    VEC x0 = *(const VEC *)xr, x1 = *(const VEC *)(xr + VW);
    const float *w = K + (size_t)k * M + r;
    for (int q = 0; q < R; q++) {
      a[q][0] += w[q] * x0;
      a[q][1] += w[q] * x1;
    }
  }
  for (int q = 0; q < R; q++) {
    float *o = z + (size_t)(r + q) * B + j;
    *(VEC *)o = a[q][0];
    *(VEC *)(o + VW) = a[q][1];
  }
}

/* z[r][j] = K[kk][r] + sum_k K[k][r] rows[k][j] for r < M (a multiple of 4) and j < B; K is
 * [(kk + 1), M] row by row (its last row the bias), z is [M][B]. */
TARGET static void SUFFIX(gates_forward)(float *restrict z, int B, const float *restrict K, int M,
                                         const float *const *rows, int kk) {
  for (int j = 0; j < B; j += 2 * VW) {
    int r = 0;
    for (; r + TILE <= M; r += TILE) {
      SUFFIX(gates_tile)(z, B, K, M, rows, kk, r, j, TILE);
    }
    for (; r < M; r += 4) {
      SUFFIX(gates_tile)(z, B, K, M, rows, kk, r, j, 4);
    }
  }
}

/* Partial sums of dK[k..k+R-1][r..r+3] over the block's columns, in dKv (VW lanes a weight). */
static inline __attribute__((always_inline)) void SUFFIX(kernel_tile)(
    float *restrict dKv, const float *const *rows, const float *restrict dz, int M, int B, int k,
    int r, const int R) {
  const float *d0 = dz + (size_t)r * B, *d1 = d0 + B, *d2 = d1 + B, *d3 = d2 + B;
  VEC a[4][4];
  for (int q = 0; q < R; q++) {
    VEC *p = (VEC *)(dKv + ((size_t)(k + q) * M + r) * VW);
    a[q][0] = p[0];
    a[q][1] = p[1];
    a[q][2] = p[2];
    a[q][3] = p[3];
  }
  for (int j = 0; j < B; j += VW) {
    VEC e0 = *(const VEC *)(d0 + j), e1 = *(const VEC *)(d1 + j);
    VEC e2 = *(const VEC *)(d2 + j), e3 = *(const VEC *)(d3 + j);
    for (int q = 0; q < R; q++) {
      VEC x = *(const VEC *)(rows[k + q] + j);
      a[q][0] += x * e0;
      a[q][1] += x * e1;
      a[q][2] += x * e2;
      a[q][3] += x * e3;
    }
  }
  for (int q = 0; q < R; q++) {
    VEC *p = (VEC *)(dKv + ((size_t)(k + q) * M + r) * VW);
    p[0] = a[q][0];
    p[1] = a[q][1];
    p[2] = a[q][2];
    p[3] = a[q][3];
  }
}

/* dK[k][r] += sum_j rows[k][j] dz[r][j] for k <= kk (row kk is the bias: rows[kk] are ones),
 * r < M, j < B, kept as VW partial sums per weight: dKv[(k M + r) VW + lane]. The lanes are added
 * once, by SUFFIX(lanes), when a task ends. */
TARGET static void SUFFIX(kernel_grad)(float *restrict dKv, const float *const *rows, int kk,
                                       const float *restrict dz, int M, int B) {
  const int R = TILE / 2;
  int k = 0;
  for (; k + R <= kk + 1; k += R) {
    for (int r = 0; r < M; r += 4) {
      SUFFIX(kernel_tile)(dKv, rows, dz, M, B, k, r, R);
    }
  }
  for (; k <= kk; k++) {
    for (int r = 0; r < M; r += 4) {
      SUFFIX(kernel_tile)(dKv, rows, dz, M, B, k, r, 1);
    }
  }
}

/* dw[i] += the sum of partial sums dKv[i VW + lane], lanes added pairwise in a fixed order. */
TARGET static void SUFFIX(lanes)(float *restrict dw, const float *restrict dKv, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float s[VW];
    for (int l = 0; l < VW; l++) {
      s[l] = dKv[i * VW + l];
    }
    for (int w = VW / 2; w > 0; w /= 2) {
      for (int l = 0; l < w; l++) {
        s[l] += s[l + w];
      }
    }
    dw[i] += s[0];
  }
}

/* Rows k..k+R-1 of out = add + K dz for columns j..j+2VW-1. */
static inline __attribute__((always_inline)) void SUFFIX(input_tile)(
    float *const *out, const float *const *add, const float *restrict K, int M,
    const float *restrict dz, int B, int k, int j, const int R) {
  VEC a[8][2];
  for (int q = 0; q < R; q++) {
    a[q][0] = (VEC){0};
    a[q][1] = (VEC){0};
  }
  const float *w = K + (size_t)k * M;
  for (int r = 0; r < M; r++) {
    const float *d = dz + (size_t)r * B + j;
    VEC e0 = *(const VEC *)d, e1 = *(const VEC *)(d + VW);
    for (int q = 0; q < R; q++) {
      a[q][0] += w[(size_t)q * M + r] * e0;
      a[q][1] += w[(size_t)q * M + r] * e1;
    }
  }
  for (int q = 0; q < R; q++) {
    float *o = out[k + q] + j;
    const float *p = add[k + q];
    *(VEC *)o = a[q][0] + (p ? *(const VEC *)(p + j) : (VEC){0});
    *(VEC *)(o + VW) = a[q][1] + (p ? *(const VEC *)(p + j + VW) : (VEC){0});
  }
}

/* out[k][j] = (add[k] ? add[k][j] : 0) + sum_r K[k][r] dz[r][j] for k < kk, j < B. */
TARGET static void SUFFIX(input_grad)(float *const *out, const float *const *add,
                                      const float *restrict K, int M, int kk,
                                      const float *restrict dz, int B) {
  for (int j = 0; j < B; j += 2 * VW) {
    int k = 0;
    for (; k + TILE <= kk; k += TILE) {
      SUFFIX(input_tile)(out, add, K, M, dz, B, k, j, TILE);
    }
    for (; k < kk; k++) {
      SUFFIX(input_tile)(out, add, K, M, dz, B, k, j, 1);
    }
  }
}
