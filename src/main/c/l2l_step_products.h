/*
 * The small matrix products of the LSTM step (included by l2l_lstm.c, twice): VEC is a vector of
 * VW floats, SUFFIX names this build's functions, TARGET its CPU target, TILE the rows of a tile
 * (8 where there are 32 vector registers, 4 where there are 16), KR x KV the kernel gradient's
 * register tile (rows of the kernel by vectors of its columns), TRANSPOSE16 (if defined) a 16 x
 * 16 transpose. Inputs are row pointers, so that
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

/* dzT[j][r] = dz[r][j] for r < M, j < B (dz is [M][B]); rows of dzT are Mp apart (M rounded up
 * to whole vectors), the padding zero. Cut into 16 x 16 tiles so that both sides stay in cache. */
TARGET static void SUFFIX(transpose)(float *restrict dzT, int Mp, const float *restrict dz, int M,
                                     int B) {
  int rf = 0; /* rows done by the 16 x 16 transposes */
#ifdef TRANSPOSE16
  for (; rf + 16 <= M; rf += 16) {
    for (int j0 = 0; j0 + 16 <= B; j0 += 16) {
      TRANSPOSE16(dzT + (size_t)j0 * Mp + rf, Mp, dz + (size_t)rf * B + j0, B);
    }
  }
#endif
  for (int r0 = rf; r0 < M; r0 += 16) {
    int r1 = r0 + 16 < M ? r0 + 16 : M;
    for (int j0 = 0; j0 < B; j0 += 16) {
      for (int j = j0; j < j0 + 16 && j < B; j++) {
        for (int r = r0; r < r1; r++) {
          dzT[(size_t)j * Mp + r] = dz[(size_t)r * B + j];
        }
      }
    }
  }
  for (int j = 0; j < B; j++) {
    for (int r = M; r < Mp; r++) {
      dzT[(size_t)j * Mp + r] = 0.0f;
    }
  }
}

/* dK[k + q][(v0 + v) VW + lane] += sum_j rows[k + q][j] dzT[j][(v0 + v) VW + lane] for q < R,
 * v < V: the sums over the block's columns kept in registers, then added to dK (rows M apart;
 * lanes past M dropped). */
static inline __attribute__((always_inline)) void SUFFIX(kernel_tile)(
    float *restrict dK, int M, const float *const *rows, int k, const float *restrict dzT, int Mp,
    int B, int v0, const int R, const int V) {
  VEC a[KR][KV];
  for (int q = 0; q < R; q++) {
    for (int v = 0; v < V; v++) {
      a[q][v] = (VEC){0};
    }
  }
  const float *d = dzT + (size_t)v0 * VW;
  for (int j = 0; j < B; j++, d += Mp) {
    VEC e[KV];
    for (int v = 0; v < V; v++) {
      e[v] = *(const VEC *)(d + v * VW);
    }
    for (int q = 0; q < R; q++) {
      float x = rows[k + q][j];
      for (int v = 0; v < V; v++) {
        a[q][v] += x * e[v];
      }
    }
  }
  for (int q = 0; q < R; q++) {
    float *o = dK + (size_t)(k + q) * M + (size_t)v0 * VW;
    for (int v = 0; v < V; v++) {
      if ((v0 + v + 1) * VW <= M) {
        *(VEC *)(o + v * VW) += a[q][v];
      } else {
        for (int l = 0; (v0 + v) * VW + l < M; l++) {
          o[v * VW + l] += a[q][v][l];
        }
      }
    }
  }
}

/* Kernel rows k..k+R-1 over all M columns: tiles of KV vectors, then single vectors. */
static inline __attribute__((always_inline)) void SUFFIX(kernel_rows)(
    float *restrict dK, int M, const float *const *rows, int k, const float *restrict dzT, int Mp,
    int B, const int R) {
  int nv = Mp / VW, v0 = 0;
  for (; v0 + KV <= nv; v0 += KV) {
    SUFFIX(kernel_tile)(dK, M, rows, k, dzT, Mp, B, v0, R, KV);
  }
  for (; v0 < nv; v0++) {
    SUFFIX(kernel_tile)(dK, M, rows, k, dzT, Mp, B, v0, R, 1);
  }
}

/* dK[k][r] += sum_j rows[k][j] dz[r][j] for k <= kk (row kk is the bias: rows[kk] are ones),
 * r < M, j < B; dK is [(kk + 1), M] row by row, like the kernel. dzT: scratch for B rows of M
 * rounded up to whole vectors. Each weight's sum over the block is one register lane, added to
 * dK once per block: the same order on any number of threads. */
TARGET static void SUFFIX(kernel_grad)(float *restrict dK, const float *const *rows, int kk,
                                       const float *restrict dz, int M, int B,
                                       float *restrict dzT) {
  int Mp = (M + VW - 1) / VW * VW;
  SUFFIX(transpose)(dzT, Mp, dz, M, B);
  int k = 0;
  for (; k + KR <= kk + 1; k += KR) {
    SUFFIX(kernel_rows)(dK, M, rows, k, dzT, Mp, B, KR);
  }
  for (; k <= kk; k++) {
    SUFFIX(kernel_rows)(dK, M, rows, k, dzT, Mp, B, 1);
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
