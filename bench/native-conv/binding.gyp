{
  "targets": [
    {
      "target_name": "native_conv",
      "sources": ["native_conv.c", "conv_kernels.c"],
      "cflags": ["-O3", "-std=c11"],
      "cflags!": ["-O2"]
    }
  ]
}
