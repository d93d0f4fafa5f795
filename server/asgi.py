"""What gunicorn serves (`server/gunicorn.py`): the Flask app behind the asyncio edge."""
from server import create_app
from server.edge import Edge

app = Edge(create_app())
