"""A minimal third-party plugin: accepts webhooks carrying a shared token."""

from portal.plugins.contract import ConnectionConfig, DeliveryInfo, FlowPlugin, WebhookRejected


class SampleConfig(ConnectionConfig):
    region: str = "eu"


class SamplePlugin(FlowPlugin):
    name = "sample"
    title = "Sample tool"
    config_model = SampleConfig

    def verify_webhook(self, request):
        if request.headers.get("x-sample-token") not in self.config.secret_values():
            raise WebhookRejected(401, "wrong X-Sample-Token")

    def describe_delivery(self, request, payload):
        return DeliveryInfo(delivery_id=payload["id"], event_type=payload["type"])
