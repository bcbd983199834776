{
  "targets": [
    {
      "target_name": "original_dst",
      "sources": ["native/original_dst.cc"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
