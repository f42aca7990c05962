"""The product-management view: DORA, flow metrics, value stream maps and value realized, computed
from flow records and requests (read through their own modules)."""
