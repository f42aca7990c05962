def test_metrics_counts_requests_by_route(client):
    client.get("/healthz")
    client.get("/healthz")
    body = client.get("/metrics").text
    assert 'flowport_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in body
    assert "flowport_http_request_seconds_bucket" in body
