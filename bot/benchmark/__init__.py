"""`aftercare bench`: this service's messages endpoint against a plain `rasa run --enable-api`.

Both servers run as subprocesses on loopback ports, one after the other, on the same trained
model and the same message mix. See `bot.benchmark.cli` for the entry point and
`bot.benchmark.report` for what is written under reports/.
"""
