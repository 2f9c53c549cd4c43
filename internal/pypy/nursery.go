package pypy

import "os"

// nurseryDefault is the size of PyPy's nursery (the area where its GC allocates young
// objects) when the user has not set PYPY_GC_NURSERY.
//
// PyPy sizes it at half the "cache size" in /proc/cpuinfo, which is the last-level cache
// shared by all cores, and on a virtual machine whatever the hypervisor reports: on the
// machine the benchmarks run on, 480 MB, so a 240 MB nursery. Every allocation then walks
// through memory no cache holds. Measured there in a plain pypy3 loop (PyPy 7.3.11),
// warm: the mid-weight page costs 56 µs a call with PyPy's choice and 36 µs with 4 MB,
// Django 19 and 13 µs, Flask 8.4 and 4.8 µs; 2, 4 and 8 MB are within a few percent of
// each other, 32 MB is already slower, 1 MB too. A worker's resident memory carried the
// whole nursery too. 4 MB is also what PyPy falls back to when it finds no cache size.
const nurseryDefault = "4MB"

// withNurseryDefault runs boot (PyPy's start-up, which reads PYPY_GC_* once) with
// PYPY_GC_NURSERY set to nurseryDefault unless the user set it, and takes the variable away
// again so that the app and its subprocesses see the environment they were given.
func withNurseryDefault(boot func()) {
	if _, set := os.LookupEnv("PYPY_GC_NURSERY"); set {
		boot()
		return
	}
	os.Setenv("PYPY_GC_NURSERY", nurseryDefault)
	defer os.Unsetenv("PYPY_GC_NURSERY")
	boot()
}
