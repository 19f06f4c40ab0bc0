"""`aftercare bench`: this service's messages endpoint against a plain `rasa run --enable-api`.

Both servers run as subprocesses on loopback ports, one after the other, on the same trained
model and the same message mix. See `aftercare_tools.benchmark.cli` for the entry point and
`aftercare_tools.benchmark.report` for what is written under reports/.
"""
