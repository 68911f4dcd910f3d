"""Checksums of PyTorch's float16/bfloat16 conversions, for src/half.rs's tests.

Run: python3 scripts/reference/half_tables.py   (needs torch only)

Each checksum is FNV-1a (64-bit) over the results as little-endian words, in
input order:
  f16 -> f32:  all 65536 float16 bit patterns, the float32 bits of each;
  bf16 -> f32: all 65536 bfloat16 bit patterns, likewise;
  f32 -> f16, f32 -> bf16: the float32 patterns (hi << 16) | lo for every hi in
  0..65536 and lo in LOWS (ties, near-ties and exact halves of both formats,
  every combination of the three float16 mantissa bits below bit 16), the
  16-bit results, with every NaN result written as 0x7FFF: PyTorch's NaN
  payloads differ between its scalar and vector paths (0x7FC0 or 0xFFFF for
  bfloat16), so only NaN-ness is compared there.
"""
import torch

MASK = (1 << 64) - 1


def fnv(words, width):
    h = 0xCBF29CE484222325
    for w in words:
        for k in range(width):
            h ^= (w >> (8 * k)) & 0xFF
            h = (h * 0x100000001B3) & MASK
    return h


LOWS = [top << 13 | low for top in range(8) for low in (0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF)]
LOWS += [0x7FFF, 0x8000, 0x8001, 0xFFFF]

bits16 = torch.arange(65536, dtype=torch.int32).to(torch.int16)
f16 = bits16.view(torch.float16).to(torch.float32).view(torch.int32).tolist()
bf16 = bits16.view(torch.bfloat16).to(torch.float32).view(torch.int32).tolist()
print(f"F16_TO_F32 = {fnv([v & 0xFFFFFFFF for v in f16], 4):#018x}")
print(f"BF16_TO_F32 = {fnv([v & 0xFFFFFFFF for v in bf16], 4):#018x}")

hi = torch.arange(65536, dtype=torch.int64).repeat_interleave(len(LOWS))
lo = torch.tensor(LOWS, dtype=torch.int64).repeat(65536)
x32 = ((hi << 16) | lo)
x32 = torch.where(x32 >= 2**31, x32 - 2**32, x32).to(torch.int32).view(torch.float32)
for name, dt in (("F32_TO_F16", torch.float16), ("F32_TO_BF16", torch.bfloat16)):
    y = x32.to(dt)
    words = torch.where(torch.isnan(y), torch.tensor(0x7FFF, dtype=torch.int32),
                        y.view(torch.int16).to(torch.int32) & 0xFFFF).tolist()
    print(f"{name} = {fnv(words, 2):#018x}")
print(f"({len(LOWS)} low halves, {65536 * len(LOWS)} float32 inputs)")
