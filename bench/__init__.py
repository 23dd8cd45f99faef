"""Benchmarks of Sportello at a million cases (run by `make bench`, never by `make test`)."""
