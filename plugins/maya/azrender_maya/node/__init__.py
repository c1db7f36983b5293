"""Code that runs inside Maya on the render node: the job's remap script (Render's ``-preRender``).

Its ``maya`` import sits inside a function, so the headless adapter can import
the module and read its source.
"""
