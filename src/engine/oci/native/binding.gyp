{
  "targets": [
    {
      "target_name": "oci_native",
      "sources": ["oci_native.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
