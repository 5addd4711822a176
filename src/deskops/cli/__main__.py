from deskops.cli import main

main()
