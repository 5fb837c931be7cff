"""Benchmarks: scripts that measure and print (time, memory, throughput); no assertions on speed."""
