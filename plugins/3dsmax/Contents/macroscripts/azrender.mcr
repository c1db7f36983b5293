-- "Render on Azure" for 3ds Max. Add the button through Customize > Customize User
-- Interface > Toolbars (or Menus), Category "azrender", action "Render on Azure".
-- Both actions open the shared azrender dialog (Python, azrender_max.ui.macro).

macroScript RenderOnAzure
    category:"azrender"
    buttonText:"Render on Azure"
    toolTip:"Render on Azure: check the scene's files, upload what changed, submit"
(
    on execute do python.Execute "import azrender_max.ui.macro as m; m.open_dialog()"
)

macroScript RenderOnAzureJobs
    category:"azrender"
    buttonText:"Azure Jobs"
    toolTip:"Jobs submitted from this machine, and their frames"
(
    on execute do python.Execute "import azrender_max.ui.macro as m; m.open_dialog(tab='jobs')"
)
