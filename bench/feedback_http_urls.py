"""The project's URLs plus /bench/hello/, a Django hello-world view on the same server."""

from django.http import HttpResponse
from django.urls import include, path


def hello(request):
    return HttpResponse("hello")


urlpatterns = [path("bench/hello/", hello), path("", include("minsheng.urls"))]
