from django.urls import path

from .consumers import RunConsumer

websocket_urlpatterns = [
    path("ws/dashboard/", RunConsumer.as_asgi()),
    path("ws/dashboard/<str:run_id>/", RunConsumer.as_asgi()),
]
