"""Rate-distortion report for the LIC Toolkit (entry point: tools/rd_report.py).

Modules, one job each:
  deps      - checks numpy and Pillow before anything imports them
  bd        - PCHIP interpolation and Bjontegaard deltas (BD-rate, BD-PSNR)
  images    - the working set of PNGs every codec codes
  anchors   - JPEG, WebP and AVIF through Pillow (bytes, timings, decoded PNGs)
  lic       - the lic binary: finding it, lic eval, lic metrics, lic --version
  points    - per-image results -> one rate point (means, MS-SSIM in dB)
  plot      - the hand-written SVG plot
  report    - rd.json and rd.md
"""
