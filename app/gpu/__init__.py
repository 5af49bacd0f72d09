"""GPU workers from the API's side: who is alive (heartbeats in Redis) and the remote-worker HTTPS API.

    await record_heartbeat(redis, "colab-1")          # a GPU worker, every ~10 s
    await gpu_worker_alive(redis)                     # startRender's check for ``upscale``
"""
