from django.urls import path

from .consumers import DocumentConsumer

websocket_urlpatterns = [
    path("ws/documents/", DocumentConsumer.as_asgi()),
]
