"""A small client for the cpobench bench API: start a run, follow it, fetch its record.

Standard library only (urllib, and a minimal WebSocket reader on socket for the live events), so it runs in any
notebook next to pyvisa:

    from cpobench_client import Client
    c = Client("http://127.0.0.1:8080", token="...")
    run_id = c.start_run("mosaic-800g-qual", dut="SN0001", operator="ada")
    for event in c.events():            # live events until the run finishes
        if event["type"] == "step.finished":
            print(event["step"], event["verdict"])
        if event["type"] == "run.finished" and event["runId"] == run_id:
            break
    record = c.wait(run_id)             # the stored run record (JSON schema: src/report/RECORD-SCHEMA.md)
"""

from .client import ApiError, Client

__all__ = ["ApiError", "Client"]
__version__ = "0.1.0"
