"""The websocket of the dashboard pages: read-only pushes of run state (runs are not private).

Connect to ws/dashboard/ for every run's updates (overview), or ws/dashboard/<run id>/ for one run;
the current state is sent at once, then {"type": "run", "run": {...}} on every change.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import services
from .errors import BenchmarkRequestError
from .notify import ALL_RUNS_GROUP, group_name


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        run_id = self.scope["url_route"]["kwargs"].get("run_id")
        self.group = ALL_RUNS_GROUP
        run = None
        if run_id:
            try:
                run = await database_sync_to_async(services.get_run)(run_id)
            except BenchmarkRequestError:
                await self.close(code=4404)
                return
            self.group = group_name(run.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if run is not None:
            await self.send_json({"type": "run", "run": run.as_dict()})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Whatever arrives (not decoded: malformed JSON must not close the socket) gets the same answer.
        await self.send_json({"type": "error", "code": "read_only", "message": "This socket only pushes run state."})

    async def run_update(self, event):
        await self.send_json({"type": "run", "run": event["run"]})
