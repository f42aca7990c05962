"""The product-management pages: portfolio, product, team, and the component metrics tab."""
