# JupyterHub's configuration for the lab3 classroom (make classroom, tests/test_classroom_hub.py).
#
# `python -m lab3.handouts.hub` writes the settings of one run (ports, users, passwords, folders)
# to a JSON file readable by root only and starts `jupyterhub -f classroom/jupyterhub_config.py`
# with LAB3_CLASSROOM_SETTINGS naming it. The parts are marked: for a real hub, keep "nbgrader
# and lab3 for every user" and replace "where it listens", "who logs in" and "where servers run"
# (docs/classroom.md has the recipe).
import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 -- JupyterHub provides it
settings = json.loads(Path(os.environ["LAB3_CLASSROOM_SETTINGS"]).read_text())
state = Path(settings["state"])

# --- where it listens: this machine only ---------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]  # npm ci --prefix classroom
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every student's server
c.JupyterHub.cleanup_proxy = True

# --- who logs in: JupyterHub's shared-password login, for a hub on 127.0.0.1 only ----------------
# Students share one password (any student can log in as any other student with it); the
# instructor, the only admin, has a separate long one. Fine for trying the course on one machine;
# a class uses the university's login (docs/classroom.md).
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = settings["student_password"]
c.SharedPasswordAuthenticator.admin_password = settings["instructor_password"]
c.Authenticator.allowed_users = set(settings["students"]) | {settings["instructor"]}
c.Authenticator.admin_users = {settings["instructor"]}
c.Authenticator.delete_invalid_users = True  # a user of an earlier run's database is forgotten

# The classroom's own scripts (tests, benchmark) start and watch servers through the REST API.
c.JupyterHub.services = [{"name": "lab3-classroom", "api_token": settings["api_token"]}]
c.JupyterHub.load_roles = [
    {
        "name": "lab3-classroom",
        "scopes": ["list:users", "read:users", "read:servers", "servers", "admin:servers"],
        "services": ["lab3-classroom"],
    }
]

# --- where servers run: one JupyterLab per person, as that person's Unix user --------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings["singleuser"]]  # the classroom environment's jupyterhub-singleuser
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.ip = "127.0.0.1"
c.Spawner.env_keep = []  # nothing of root's environment; what they need is set here
c.Spawner.environment = settings["environment"]  # PATH, JUPYTER_CONFIG_PATH (nbgrader), threads
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
