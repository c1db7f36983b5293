"""Code that runs inside Blender on the render node: the job's remap script and ``azrender-blender``.

Each module imports ``bpy`` only inside its functions, so the headless side (the
adapter on the artist's machine) can import them and read their source.
"""
