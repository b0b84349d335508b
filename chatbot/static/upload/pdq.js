// PDQ perceptual image hash (Meta's algorithm for hash-sharing programmes), computed in the child's browser
// before encryption so the organisation can share it without ever seeing the image.
// Follows the published algorithm step for step, in 32-bit float arithmetic like the reference, and is
// tested bit for bit against the reference C++ (the `pdqhash` Python bindings) in
// tests/upload/test_pdq_browser.py: luma → two passes of Jarosz box filters → 64×64 decimation →
// 16×16 of the DCT → bits above the median; plus the reference's quality score (0–100).

const f = Math.fround;
const MIN_DIM = 5;

// 16×64 DCT basis without the DC row, as float32 like the reference's table.
const DCT = (() => {
  const table = new Float32Array(16 * 64);
  const scale = Math.sqrt(2 / 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) table[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return table;
})();

function windowSize(oldDim, newDim) {
  return Math.floor((oldDim + 2 * newDim - 1) / (2 * newDim));
}

// One box filter along a line of `length` values, `stride` apart; window grows and shrinks at the ends.
function box1D(input, output, start, length, stride, full) {
  const half = Math.floor((full + 2) / 2);
  const phase1 = half - 1;
  const phase2 = full - half + 1;
  const phase3 = length - full;
  const phase4 = half - 1;
  let li = start;
  let ri = start;
  let oi = start;
  let sum = 0;
  let size = 0;
  for (let i = 0; i < phase1; i++) {
    sum = f(sum + input[ri]);
    size++;
    ri += stride;
  }
  for (let i = 0; i < phase2; i++) {
    sum = f(sum + input[ri]);
    size++;
    output[oi] = sum / size;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase3; i++) {
    sum = f(sum + input[ri]);
    sum = f(sum - input[li]);
    output[oi] = sum / size;
    li += stride;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase4; i++) {
    sum = f(sum - input[li]);
    size--;
    output[oi] = sum / size;
    li += stride;
    oi += stride;
  }
}

/** PDQ of an RGBA pixel array (ImageData.data). Returns {hash: 64 hex digits, quality: 0..100}. */
export function pdqFromRGBA(rgba, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { hash: "0".repeat(64), quality: 0 };
  const n = width * height;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let p = 0, q = 0; p < n; p++, q += 4) a[p] = rgba[q] * 0.299 + rgba[q + 1] * 0.587 + rgba[q + 2] * 0.114;

  const block = new Float32Array(64 * 64);
  if (width === 64 && height === 64) {
    block.set(a);
  } else {
    const alongRows = windowSize(width, 64);
    const alongCols = windowSize(height, 64);
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < height; i++) box1D(a, b, i * width, width, 1, alongRows);
      for (let j = 0; j < width; j++) box1D(b, a, j, height, width, alongCols);
    }
    for (let i = 0; i < 64; i++) {
      const row = Math.floor(((i + 0.5) * height) / 64);
      for (let j = 0; j < 64; j++) block[i * 64 + j] = a[row * width + Math.floor(((j + 0.5) * width) / 64)];
    }
  }

  let gradients = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) gradients += Math.abs(Math.trunc(f(f(f(block[i * 64 + j] - block[(i + 1) * 64 + j]) * 100) / 255)));
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) gradients += Math.abs(Math.trunc(f(f(f(block[i * 64 + j] - block[i * 64 + j + 1]) * 100) / 255)));
  }
  const quality = Math.min(100, Math.floor(gradients / 90));

  // T = D·A (16×64), then B = T·Dᵀ (16×16), summing in float32 in the reference's order.
  const t = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f(sum + f(DCT[i * 64 + k] * block[k * 64 + j]));
      t[i * 64 + j] = sum;
    }
  }
  const dct = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < 64; k++) sum = f(sum + f(t[i * 64 + k] * DCT[j * 64 + k]));
      dct[i * 16 + j] = sum;
    }
  }

  // The reference's median of 256 values is the 128th smallest.
  const median = Float32Array.from(dct).sort()[127];
  const words = new Uint16Array(16);
  for (let k = 0; k < 256; k++) if (dct[k] > median) words[k >> 4] |= 1 << (k & 15);
  let hash = "";
  for (let w = 15; w >= 0; w--) hash += words[w].toString(16).padStart(4, "0");
  return { hash, quality };
}

/**
 * PDQ of an image File/Blob, or null when the browser cannot decode it (not an image, or a format
 * this browser lacks). Pixels as stored: no EXIF rotation and no colour conversion, like the reference.
 */
export async function pdqFromImage(blob) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      imageOrientation: "none",
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch {
    return null;
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const result = pdqFromRGBA(pixels.data, bitmap.width, bitmap.height);
    pixels.data.fill(0); // the decoded picture does not outlive the hash
    return result;
  } finally {
    bitmap.close();
  }
}
